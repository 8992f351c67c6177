import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { VoiceCode } from "../../gen/voicecode/v1/voicecode_pb.js";
import { CONFIG_VARIABLES, type Config, parseConfig } from "../../src/config.js";
import { PROVIDER_MODULES } from "../../src/providers/index.js";
import { type Manifest, loadKustomization } from "./kustomize.js";

// The manifests restate the server's configuration (ports, variables, the drain's
// length, where SQLite lives); these checks keep the two from drifting apart.
const root = join(import.meta.dirname, "..", "..");
const overlays = join(root, "deploy", "kubernetes", "overlays");
const KNOWN = new Set([...CONFIG_VARIABLES, ...PROVIDER_MODULES.flatMap((m) => m.envVars)]);
const dockerUser = Number(/^USER (\d+)/m.exec(readFileSync(join(root, "Dockerfile"), "utf8"))?.[1]);
const scratch = mkdtempSync(join(tmpdir(), "voicecode-k8s-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// Loose shapes of what we read; the YAML is checked, not trusted.
interface Probe {
  grpc?: { port: number; service?: string };
  httpGet?: unknown;
  periodSeconds?: number;
  failureThreshold?: number;
}
interface Container {
  name: string;
  ports: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: Record<string, unknown>;
  containers: Container[];
  volumes?: { name: string; emptyDir?: unknown; secret?: { secretName: string } }[];
}
interface Workload {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  volumeClaimTemplates?: { metadata: { name: string } }[];
}
interface ServicePort {
  name: string;
  port: number;
  targetPort: string | number;
  appProtocol?: string;
}

function load(overlay: "sqlite" | "postgres") {
  const manifests = loadKustomization(join(overlays, overlay));
  const find = (kind: string, name: string): Manifest => {
    const m = manifests.find((x) => x.kind === kind && x.metadata.name === name);
    if (m === undefined) throw new Error(`${overlay}: no ${kind} ${name}`);
    return m;
  };
  const workloads = manifests.filter((m) => m.kind === "Deployment" || m.kind === "StatefulSet");
  expect(workloads).toHaveLength(1);
  const workload = workloads[0] as Manifest;
  const spec = workload.spec as Workload;
  const pod = spec.template.spec;
  const container = pod.containers[0] as Container;
  const configMap = (find("ConfigMap", "voicecode-config").data ?? {}) as Record<string, string>;
  const secretData = (name: string): Record<string, string> => {
    const s = find("Secret", name);
    const decoded = Object.fromEntries(
      Object.entries((s.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, "base64").toString()]),
    );
    return { ...decoded, ...((s.stringData ?? {}) as Record<string, string>) };
  };
  /** The environment the container gets (secrets' placeholder values included). */
  const environment = (): Record<string, string> => {
    const env: Record<string, string> = {};
    for (const from of container.envFrom ?? []) {
      if (from.configMapRef !== undefined) Object.assign(env, find("ConfigMap", from.configMapRef.name).data ?? {});
      if (from.secretRef !== undefined) Object.assign(env, secretData(from.secretRef.name));
    }
    for (const e of container.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      env[e.name] = ref === undefined ? (e.value ?? "") : (secretData(ref.name)[ref.key] ?? "");
    }
    return env;
  };
  return { manifests, find, workload, spec, pod, container, configMap, secretData, environment };
}

/** Parses the container's environment, the API keys file taken from its Secret. */
function configOf(o: ReturnType<typeof load>, override: Record<string, string> = {}) {
  const env = o.environment();
  const keysFile = env.VOICECODE_API_KEYS_FILE;
  if (keysFile !== undefined) {
    const mount = o.container.volumeMounts?.find((m) => m.mountPath === dirname(keysFile));
    const volume = o.pod.volumes?.find((v) => v.name === mount?.name);
    expect(volume?.secret, "the API keys file is a mounted Secret").toBeDefined();
    const text = o.secretData(volume?.secret?.secretName ?? "")[basename(keysFile)];
    expect(text, "the Secret holds the file the config names").toBeDefined();
    const local = join(scratch, `${Math.random()}`.slice(2));
    writeFileSync(local, text ?? "");
    env.VOICECODE_API_KEYS_FILE = local;
  }
  return parseConfig({ ...env, ...override });
}

const GOOD_SECRET = "x".repeat(48);

describe.each(["sqlite", "postgres"] as const)("deploy/kubernetes/overlays/%s", (overlay) => {
  const o = load(overlay);
  const config = (): Config => {
    const r = configOf(o, overlay === "postgres" ? { VOICECODE_SERVER_SECRET: GOOD_SECRET } : {});
    if (!r.ok) throw new Error(r.errors.join("; "));
    return r.config;
  };

  it("sets only variables the server or a provider reads, and they parse", () => {
    const names = [
      ...Object.keys(o.configMap),
      ...(o.container.envFrom ?? []).flatMap((f) => (f.secretRef ? Object.keys(o.secretData(f.secretRef.name)) : [])),
      ...(o.container.env ?? []).map((e) => e.name),
    ];
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(KNOWN, name).toContain(name);
    expect(config()).toBeDefined();
  });

  it("listens on the configured ports, and the Services and NetworkPolicy name the same ones", () => {
    const { grpcPort, apiPort, webhookPort } = config();
    const byName = Object.fromEntries(o.container.ports.map((p) => [p.name, p.containerPort]));
    expect(byName).toEqual({ grpc: grpcPort, api: apiPort, webhooks: webhookPort });

    const ports = (name: string) => (o.find("Service", name).spec as { ports: ServicePort[] }).ports;
    const target = (p: ServicePort) => (typeof p.targetPort === "number" ? p.targetPort : byName[p.targetPort]);
    const main = ports("voicecode");
    expect(main.map((p) => [target(p), p.appProtocol])).toEqual([
      [grpcPort, "grpc"],
      [apiPort, "http"],
    ]);
    // The Internet-facing Service carries the webhook port and nothing else.
    expect(ports("voicecode-webhooks").map(target)).toEqual([webhookPort]);
    for (const name of ["voicecode", "voicecode-webhooks"]) {
      expect((o.find("Service", name).spec as { selector: Record<string, string> }).selector).toEqual(
        o.spec.template.metadata.labels,
      );
    }

    const rules = (o.find("NetworkPolicy", "voicecode").spec as {
      ingress: { ports: { port: number }[]; from?: unknown[] }[];
    }).ingress;
    const ruleFor = (port: number) => rules.filter((r) => r.ports.some((p) => p.port === port));
    for (const internal of [grpcPort, apiPort]) {
      expect(ruleFor(internal).length).toBeGreaterThan(0);
      for (const rule of ruleFor(internal)) expect(rule.from?.length ?? 0, `port ${internal} restricted`).toBeGreaterThan(0);
    }
    expect(ruleFor(webhookPort).some((r) => r.from === undefined)).toBe(true);
  });

  it("routes the public webhook host to the webhook Service only", () => {
    const publicUrl = config().webhookPublicUrl;
    expect(publicUrl).toBeDefined();
    const ingress = o.find("Ingress", "voicecode-webhooks").spec as {
      rules: { host: string; http: { paths: { path: string; backend: { service: { name: string } } }[] } }[];
    };
    expect(ingress.rules.map((r) => r.host)).toEqual([new URL(publicUrl ?? "").hostname]);
    const paths = ingress.rules.flatMap((r) => r.http.paths);
    expect(paths.map((p) => [p.path, p.backend.service.name])).toEqual([["/webhooks/", "voicecode-webhooks"]]);
  });

  it("probes grpc.health.v1 on the gRPC port, with a name the health service knows", () => {
    const { grpcPort } = config();
    const probes = [o.container.startupProbe, o.container.readinessProbe, o.container.livenessProbe];
    for (const probe of probes) {
      expect(probe?.grpc?.port).toBe(grpcPort);
      expect(["", VoiceCode.typeName]).toContain(probe?.grpc?.service ?? "");
    }
    expect(Health.typeName).toBe("grpc.health.v1.Health");
  });

  it("gives the drain its time: preStop pause + shutdown grace < termination grace, and liveness outlasts the drain", () => {
    const { shutdownGraceMs } = config();
    const sleep = o.container.lifecycle?.preStop?.exec?.command;
    expect(sleep?.[0]).toBe("sleep");
    const pauseMs = Number(sleep?.[1]) * 1000;
    expect(pauseMs).toBeGreaterThan(0);
    expect((o.pod.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThan(pauseMs + shutdownGraceMs);
    const live = o.container.livenessProbe;
    expect((live?.periodSeconds ?? 10) * (live?.failureThreshold ?? 3) * 1000).toBeGreaterThan(shutdownGraceMs);
  });

  it("runs locked down, as the image's user, with requests and limits", () => {
    expect(o.container.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(o.pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: dockerUser });
    for (const kind of ["requests", "limits"] as const) {
      expect(Object.keys(o.container.resources?.[kind] ?? {}).sort()).toEqual(["cpu", "memory"]);
    }
    const tmp = o.container.volumeMounts?.find((m) => m.mountPath === "/tmp");
    expect(o.pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
  });

  it("has a PodDisruptionBudget over its pods that lets a node drain", () => {
    const pdb = o.find("PodDisruptionBudget", "voicecode").spec as {
      maxUnavailable?: number;
      selector: { matchLabels: Record<string, string> };
    };
    expect(pdb.selector.matchLabels).toEqual(o.spec.selector.matchLabels);
    expect(pdb.maxUnavailable).toBeGreaterThanOrEqual(1);
  });
});

describe("the SQLite form", () => {
  const o = load("sqlite");

  it("is one StatefulSet replica with its own volume at the database's directory", () => {
    expect(o.workload.kind).toBe("StatefulSet");
    expect(o.spec.replicas).toBe(1);
    const r = configOf(o);
    if (!r.ok) throw new Error(r.errors.join("; "));
    expect(r.config.postgres).toBeUndefined();
    expect(r.config.serverSecret.kind).toBe("file"); // generated once beside the database
    const mount = o.container.volumeMounts?.find((m) => m.mountPath === dirname(r.config.dbPath));
    expect(mount, "a volume at the database directory").toBeDefined();
    expect(o.spec.volumeClaimTemplates?.map((t) => t.metadata.name)).toContain(mount?.name);
  });
});

describe("the PostgreSQL form", () => {
  const o = load("postgres");

  it("is a Deployment of 2+ replicas with DATABASE_URL and the server secret from a Secret", () => {
    expect(o.workload.kind).toBe("Deployment");
    expect(o.spec.replicas).toBeGreaterThanOrEqual(2);
    for (const name of ["DATABASE_URL", "VOICECODE_SERVER_SECRET"]) {
      const ref = o.container.env?.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
      expect(ref, name).toBeDefined();
      expect(o.secretData(ref?.name ?? "")[ref?.key ?? ""], `${name} in its Secret`).toBeDefined();
    }
    expect(Object.keys(o.configMap)).not.toContain("DATABASE_URL");
    const r = configOf(o, { VOICECODE_SERVER_SECRET: GOOD_SECRET });
    if (!r.ok) throw new Error(r.errors.join("; "));
    expect(r.config.postgres).toBeDefined();
  });

  it("does not start with the placeholder server secret", () => {
    const r = configOf(o);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.split(":")[0])).toEqual(["VOICECODE_SERVER_SECRET"]);
  });
});
