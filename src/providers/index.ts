/**
 * The real providers this build knows. Each module reads its own VOICECODE_<NAME>_*
 * variables; adding a provider means adding its folder and one line here.
 */
import { huaweiModule } from "./huawei/index.js";
import { kingsoftModule } from "./kingsoft/index.js";
import type { ProviderModule } from "./module.js";
import { tencentModule } from "./tencent/index.js";
import { ytxModule } from "./ytx/index.js";

export const PROVIDER_MODULES: readonly ProviderModule[] = [tencentModule, ytxModule, kingsoftModule, huaweiModule];

export type { Env, ProviderDeps, ProviderModule, ProviderSetup } from "./module.js";
