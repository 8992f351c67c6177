/**
 * Kingsoft voice codes and how they normalize: the OpenAPI error table (synchronous
 * CallVerify answers) and the status-report receipt table (ErrCode of a FAIL report),
 * both transcribed in full from the ksyun voice doc (2022-01-11). The raw code and text
 * always travel with the event; the reason is our best reading of the doc's description.
 */
import { CallState, FailureReason } from "../../core/model.js";

/** What a documented API error means for a Send. */
export type ApiErrorMeaning =
  /** The provider refused before placing any call. */
  | {
      readonly kind: "rejected";
      readonly reason: FailureReason;
      /** "number": a limit about the destination; routing must not try another provider. */
      readonly scope?: "number";
    }
  /** The provider may have placed the call before failing (internal error, timeout). */
  | { readonly kind: "ambiguous" };

export interface ApiErrorEntry {
  /** The HTTP status the doc lists with the code. */
  readonly httpStatus: number;
  readonly text: string;
  readonly meaning: ApiErrorMeaning;
}

const rejected = (reason: FailureReason): ApiErrorMeaning => ({ kind: "rejected", reason });
const AMBIGUOUS: ApiErrorMeaning = { kind: "ambiguous" };

/**
 * The doc's API error table. Decisions where the doc leaves room:
 * - `Unknow` and `ServiceTimeout` (500) come from inside the voice service, which may
 *   already have handed the call to a carrier: ambiguous, never retried elsewhere.
 * - `InnerServiceUnavaliable` (500, "openAPI或服务暂不可用") is ambiguous too: the doc
 *   words the gateway's true refusals as "请求被拒绝" (ServiceUnavailable, NoSuchEntity,
 *   both 404), while this one only says the service is unavailable, which is also what
 *   a gateway answers when the backend failed after taking the request.
 * - `AccountVoiceServiceUnavailable` is a refusal before any call, and the provider's
 *   own trouble: the table words it "服务临时不可用" (service temporarily unavailable,
 *   HTTP 500, "contact support"), so it is not our configuration (CONFIG_ERROR would
 *   tell the operator to fix a setting that is not wrong). No call was placed: the
 *   doc's example message, "The Account do not call voice service", is the answer of a
 *   check on the account that runs before anything is dialled, and it is the doc's
 *   example of a failed CallVerify with no CallId; unlike `Unknow` and `ServiceTimeout`
 *   nothing in it suggests a call was handed on. PROVIDER_ERROR, rejected: another
 *   provider may take the call.
 * - Parameter-format codes are CONFIG_ERROR (our request or account setup is wrong),
 *   as for the other providers; `InvalidMobile` alone blames the number.
 * - The doc has no balance code for CallVerify; `TrialTimesLimit` (trial quota used up)
 *   is the one that means "pay to continue".
 */
export const API_ERRORS: Readonly<Record<string, ApiErrorEntry>> = {
  Unknow: { httpStatus: 500, text: "未知错误", meaning: AMBIGUOUS },
  AccountVoiceServiceUnavailable: { httpStatus: 500, text: "服务临时不可用", meaning: rejected(FailureReason.PROVIDER_ERROR) },
  InvalidAccountId: { httpStatus: 400, text: "账号错误", meaning: rejected(FailureReason.AUTH_ERROR) },
  InvalidMobile: { httpStatus: 400, text: "手机号格式错误", meaning: rejected(FailureReason.INVALID_NUMBER) },
  InvalidTplId: { httpStatus: 400, text: "模板ID不存在", meaning: rejected(FailureReason.CONFIG_ERROR) },
  InvalidTplParams: { httpStatus: 400, text: "模板参数不存在或者错误", meaning: rejected(FailureReason.CONFIG_ERROR) },
  InvalidVerifyCode: { httpStatus: 400, text: "验证码格式错误", meaning: rejected(FailureReason.CONFIG_ERROR) },
  TplContainUrl: { httpStatus: 400, text: "模板不能有url", meaning: rejected(FailureReason.CONFIG_ERROR) },
  InvalidTplLen: { httpStatus: 400, text: "模板参数长度超限", meaning: rejected(FailureReason.CONFIG_ERROR) },
  InvalidContentLen: { httpStatus: 400, text: "超过语音内容最大长度", meaning: rejected(FailureReason.CONFIG_ERROR) },
  InvalidPlayTimes: { httpStatus: 400, text: "播放次数不合法", meaning: rejected(FailureReason.CONFIG_ERROR) },
  InvalidExtId: { httpStatus: 400, text: "外部流水扩展格式错误", meaning: rejected(FailureReason.CONFIG_ERROR) },
  SendVoiceFailed: { httpStatus: 400, text: "发送语音失败", meaning: rejected(FailureReason.PROVIDER_ERROR) },
  TrialTimesLimit: { httpStatus: 400, text: "试用额度已用完", meaning: rejected(FailureReason.INSUFFICIENT_BALANCE) },
  EmptyVoiceChannel: { httpStatus: 400, text: "通道不存在", meaning: rejected(FailureReason.CONFIG_ERROR) },
  // Per number ("往同个手机号"): an anti-abuse rule another provider must not circumvent.
  MobileFrequencyLimit: {
    httpStatus: 400,
    text: "往同个手机号下发的条数超过频度控制上限",
    meaning: { kind: "rejected", reason: FailureReason.RATE_LIMITED, scope: "number" },
  },
  SignatureNotMatch: { httpStatus: 403, text: "签名不匹配", meaning: rejected(FailureReason.AUTH_ERROR) },
  ServiceUnavailable: { httpStatus: 404, text: "请求被拒绝，因其引用的InnerAPI无内部服务", meaning: rejected(FailureReason.PROVIDER_ERROR) },
  InnerServiceUnavaliable: { httpStatus: 500, text: "openAPI或服务暂不可用", meaning: AMBIGUOUS },
  NoSuchEntity: { httpStatus: 404, text: "请求被拒绝，因其引用的InnerAPI不存在", meaning: rejected(FailureReason.CONFIG_ERROR) },
  FlowLimitExceeded: { httpStatus: 409, text: "该openAPI接口访问速度已达到流控上限", meaning: rejected(FailureReason.RATE_LIMITED) },
  MissingParameter: { httpStatus: 400, text: "输入参数的值不能为空", meaning: rejected(FailureReason.CONFIG_ERROR) },
  // The timestamp is part of request authentication: a skewed clock fails it.
  InvalidTimestamp: { httpStatus: 400, text: "请保持请求时间戳在15分钟以内", meaning: rejected(FailureReason.AUTH_ERROR) },
  InvalidTimestampFormat: { httpStatus: 400, text: "请求时间戳格式不合法", meaning: rejected(FailureReason.AUTH_ERROR) },
  ServiceTimeout: { httpStatus: 500, text: "内部服务由于超时暂不可用", meaning: AMBIGUOUS },
  // Not in the table but the doc's own example of a failed call (请求结构 > 调用失败).
  InvalidParameterValue: { httpStatus: 400, text: "An invalid or out-of-range value was supplied for the input parameter", meaning: rejected(FailureReason.CONFIG_ERROR) },
};

/**
 * The meaning of an error body. A code outside the table is a refusal (reason UNKNOWN)
 * only under a 4xx, which by HTTP's own terms was not acted on; under any other status
 * (a 5xx, or a 2xx that also says success) it is ambiguous.
 */
export function apiErrorMeaning(code: string, httpStatus: number): ApiErrorMeaning {
  const entry = Object.hasOwn(API_ERRORS, code) ? API_ERRORS[code] : undefined;
  if (entry !== undefined) return entry.meaning;
  return httpStatus >= 400 && httpStatus < 500 ? rejected(FailureReason.UNKNOWN) : AMBIGUOUS;
}

export interface ReceiptEntry {
  readonly text: string;
  /** UNSPECIFIED for the codes of a call that was connected (success, DH:0007). */
  readonly reason: FailureReason;
  /**
   * The code lists several causes ("拒接、无人接听、正在通话…"): the report's ErrDesc
   * names the one that happened when it is the text of a single-cause code.
   */
  readonly catchAll?: true;
  /** A FAIL report with this code describes a connected call: COMPLETED. */
  readonly connected?: true;
}

const r = (text: string, reason: FailureReason): ReceiptEntry => ({ text, reason });
const several = (text: string, reason: FailureReason): ReceiptEntry => ({ text, reason, catchAll: true });
const {
  BUSY,
  NO_ANSWER,
  REJECTED,
  INVALID_NUMBER,
  POWERED_OFF,
  UNREACHABLE,
  SUSPENDED,
  BLOCKED,
  RATE_LIMITED,
  INSUFFICIENT_BALANCE,
  AUTH_ERROR,
  CONFIG_ERROR,
  PROVIDER_ERROR,
  UNKNOWN,
  UNSPECIFIED,
} = FailureReason;

/**
 * The doc's receipt table (状态回执错误码): DH:xxxx platform codes, SIP responses and the
 * carrier gateways' own numbers, all sharing one ErrCode field. Readings where the doc
 * leaves room:
 * - "the platform (主叫) cancelled before the callee answered" (DH:0008, 104, 100000001)
 *   is the platform's ring timeout: NO_ANSWER.
 * - codes that list several causes (`several`: DH:9999, 404, 480, 486, 500, 603,
 *   100000003, 100000005) take the reason the report's ErrDesc gives when it is the
 *   text of a single-cause code of this table (the doc's example pairs 480 with
 *   "用户拒接", 100000007's text: REJECTED); otherwise the cause most of their listed
 *   ones share. The raw code and text stay on the event either way.
 * - 480 lists ten causes over eight reasons (超频 rate limit, 黑名单 and 软件拦截
 *   blocking, 盲区 coverage, 拒接 rejected, 无人接听 no answer, 正在通话 busy, 停机
 *   suspended, 关机 powered off, 空号 vacant number): no cause dominates, so without a
 *   telling ErrDesc it is UNKNOWN. (NO_ANSWER, read earlier from SIP's "Temporarily
 *   Unavailable", is one of ten and contradicted by the doc's own example.)
 * - DH:0007 "呼叫接通后，被叫挂机" (the callee hung up after the call was connected)
 *   is a connected call. Our model's COMPLETED is "answered and the code was played,
 *   whether or not the user stayed to the end"; a code call plays the code as soon as
 *   it connects. Kingsoft files it as a FAIL because one receipt table serves its IVR
 *   and notification calls too, where hanging up early breaks the flow (the table's
 *   DH:0006, no key pressed, only means something for IVR). So COMPLETED, not REJECTED
 *   (which means the callee declined the call, before answering).
 * - calling-line (主叫) troubles are the provider's, except its arrears (DH:0016).
 */
export const RECEIPT_CODES: Readonly<Record<string, ReceiptEntry>> = {
  SUCCESS: r("发送成功", UNSPECIFIED),
  "DH:0000": r("呼叫成功", UNSPECIFIED),
  "DH:0001": r("被叫忙", BUSY),
  "DH:0002": r("被叫空号", INVALID_NUMBER),
  "DH:0003": r("呼叫超时，无振铃", UNREACHABLE),
  "DH:0004": r("有振铃，无人接听", NO_ANSWER),
  "DH:0005": r("放音失败，放音文件不存在或格式不正确", PROVIDER_ERROR),
  "DH:0006": r("没有接收到按键", NO_ANSWER),
  "DH:0007": { text: "呼叫接通后，被叫挂机", reason: UNSPECIFIED, connected: true },
  "DH:0008": r("被叫还未接时，主叫挂机", NO_ANSWER),
  "DH:0009": r("放音文本含有敏感词", BLOCKED),
  "DH:0010": r("号码为黑名单", BLOCKED),
  "DH:0011": r("单个号码相同内容限制", RATE_LIMITED),
  "DH:0012": r("单个号码次数限制", RATE_LIMITED),
  "DH:0013": r("主叫禁呼", BLOCKED),
  "DH:0014": r("主叫限制", BLOCKED),
  "DH:0015": r("主叫未拨号", PROVIDER_ERROR),
  "DH:0016": r("主叫欠费", INSUFFICIENT_BALANCE),
  "DH:0017": r("被叫拒接", REJECTED),
  "DH:0018": r("被叫关机", POWERED_OFF),
  "DH:0019": r("被叫停机", SUSPENDED),
  "DH:0020": r("被叫不在服务区", UNREACHABLE),
  "DH:0021": r("被叫禁呼", BLOCKED),
  "DH:0023": r("手机号码错误", INVALID_NUMBER),
  "DH:0027": r("码号不正确", INVALID_NUMBER),
  "DH:0028": r("主叫忙", PROVIDER_ERROR),
  "DH:0029": r("外呼号码被过滤", BLOCKED),
  "DH:9999": several("app管家拦截/用户拒接/网关超时", REJECTED),
  "101": r("主叫挂断", PROVIDER_ERROR),
  "102": r("被叫挂断", REJECTED),
  "103": r("接口结束呼叫", PROVIDER_ERROR),
  "104": r("主叫取消呼叫", NO_ANSWER),
  "106": r("被叫无法接通", UNREACHABLE),
  "108": r("被叫拒接", REJECTED),
  "110": r("被叫无人接听", NO_ANSWER),
  "9001": r("其他错误", UNKNOWN),
  "9002": r("网络异常", PROVIDER_ERROR),
  "1012": r("请求处理超时", PROVIDER_ERROR),
  "2038": r("请求过于频繁", RATE_LIMITED),
  "5000": r("未知错误", UNKNOWN),
  "5099": r("号码为空", INVALID_NUMBER),
  "5100": r("号码不存在", INVALID_NUMBER),
  "5110": r("号码和号码池未关联", CONFIG_ERROR),
  "5111": r("通道不存在", CONFIG_ERROR),
  "5112": r("黑名单列表号码", BLOCKED),
  "5113": r("网关不存在", PROVIDER_ERROR),
  "5114": r("余额不足", INSUFFICIENT_BALANCE),
  "5121": r("通道未启用", CONFIG_ERROR),
  "5122": r("通道停用", CONFIG_ERROR),
  "5123": r("号码停用", SUSPENDED),
  "5124": r("号码池不存在", CONFIG_ERROR),
  "5125": r("被叫号码地区不支持", BLOCKED),
  "5130": r("绑定号码未找到", CONFIG_ERROR),
  "5132": r("IVR校验失败", PROVIDER_ERROR),
  "5133": r("绑定关系已经存在", PROVIDER_ERROR),
  "5142": r("内部网关不可用", PROVIDER_ERROR),
  "5157": r("解除绑定失败", PROVIDER_ERROR),
  "5158": r("黑名单的关联关系已设置", BLOCKED),
  "5159": r("黑名单的关联关系已删除", PROVIDER_ERROR),
  "5160": r("号码为黑名单号码", BLOCKED),
  "5161": r("号码有效校验失败", INVALID_NUMBER),
  "5162": r("账号状态异常", CONFIG_ERROR),
  "5197": r("账号未找到", AUTH_ERROR),
  "5198": r("主被叫显号不能同时为空", CONFIG_ERROR),
  "5203": r("会话不存在", PROVIDER_ERROR),
  "5204": r("呼叫不存在", PROVIDER_ERROR),
  "5206": r("内部挂断", PROVIDER_ERROR),
  "5207": r("内部挂断", PROVIDER_ERROR),
  "5208": r("通道类型错误", CONFIG_ERROR),
  "5209": r("空号", INVALID_NUMBER),
  "5210": r("关机", POWERED_OFF),
  "5211": r("无法接通", UNREACHABLE),
  "5212": r("无人接听", NO_ANSWER),
  "5213": r("拒接", REJECTED),
  "5214": r("用户忙", BUSY),
  "5215": r("停机", SUSPENDED),
  "5216": r("正在通话", BUSY),
  "5217": r("呼入限制", BLOCKED),
  "5218": r("长途限制", BLOCKED),
  "5219": r("加拨长途区号", INVALID_NUMBER),
  "5220": r("紧急呼叫", INVALID_NUMBER),
  "5221": r("拨打GSM", UNKNOWN),
  "5222": r("用户正忙", BUSY),
  "5223": r("号码有误", INVALID_NUMBER),
  "5224": r("号码失效", INVALID_NUMBER),
  "5225": r("网络忙", PROVIDER_ERROR),
  "5226": r("校对", UNKNOWN),
  "5227": r("暂停服务", SUSPENDED),
  "5228": r("用户不存在", INVALID_NUMBER),
  "5229": r("不便接听", REJECTED),
  "5230": r("未开通语音通话", SUSPENDED),
  "5237": r("无法识别", UNKNOWN),
  "5300": r("内部错误", PROVIDER_ERROR),
  "5400": r("服务不可用", PROVIDER_ERROR),
  "402": r("需要付费才能完成通话", INSUFFICIENT_BALANCE),
  "403": r("禁止呼叫", BLOCKED),
  "404": several("屏蔽地区/黑名单/超频", BLOCKED),
  "408": r("有振铃，超时无人接听", NO_ANSWER),
  "480": several("超频、黑名单、盲区的问题拒接、无人接听、正在通话、软件拦截、停机、关机、空号的问题", UNKNOWN),
  "484": r("服务网关收到一个地址不完整的请求", INVALID_NUMBER),
  "486": several("被叫方正忙或者拒绝了通话", BUSY),
  "487": r("用户主动挂断", REJECTED),
  "500": several("振铃后被叫拒接/未接听", NO_ANSWER),
  "502": r("错误的服务网关", PROVIDER_ERROR),
  "503": r("服务网关超负载", PROVIDER_ERROR),
  "504": r("服务网关内部通信超时", PROVIDER_ERROR),
  "603": several("被叫方无法接通或拒接", REJECTED),
  "100000001": r("主叫取消呼叫", NO_ANSWER),
  "100000002": r("用户忙(486)", BUSY),
  "100000003": several("有长时间振铃未接听，用户忙未接听，客户信号不好未接听，客户关机未接听", NO_ANSWER),
  "100000005": several("客户未接听/目的地址不完整/号码被拦截", NO_ANSWER),
  "100000006": r("运营商网络问题，请稍后重发", PROVIDER_ERROR),
  "100000007": r("用户拒接", REJECTED),
  "0": r("长时间振铃无人接听，系统主动挂断", NO_ANSWER),
  "500001": r("终端骚扰拦截", BLOCKED),
};

/**
 * Reasons by the text of the table's single-cause failure codes ("用户拒接" → REJECTED),
 * for reading a catch-all code's ErrDesc. A text two codes give different reasons is
 * left out: it decides nothing.
 */
const REASON_BY_TEXT: ReadonlyMap<string, FailureReason> = (() => {
  const byText = new Map<string, FailureReason | undefined>();
  for (const entry of Object.values(RECEIPT_CODES)) {
    if (entry.catchAll === true || entry.reason === UNSPECIFIED) continue;
    const seen = byText.get(entry.text);
    byText.set(entry.text, byText.has(entry.text) && seen !== entry.reason ? undefined : entry.reason);
  }
  return new Map([...byText].filter((pair): pair is [string, FailureReason] => pair[1] !== undefined));
})();

/** How a FAIL report ends its call. */
export interface ReceiptOutcome {
  readonly state: CallState.COMPLETED | CallState.FAILED;
  /** UNSPECIFIED for COMPLETED. */
  readonly reason: FailureReason;
}

/**
 * What a FAIL report with this ErrCode (and ErrDesc) means. A code of a connected call
 * completes it; a catch-all code takes its ErrDesc's reason when the text is telling;
 * a success code or an unknown one under FAIL says nothing precise: UNKNOWN.
 */
export function receiptOutcome(errCode: string, errDesc: string): ReceiptOutcome {
  const entry = Object.hasOwn(RECEIPT_CODES, errCode) ? RECEIPT_CODES[errCode] : undefined;
  if (entry?.connected === true) return { state: CallState.COMPLETED, reason: UNSPECIFIED };
  if (entry?.catchAll === true) {
    const told = REASON_BY_TEXT.get(errDesc.trim());
    if (told !== undefined) return { state: CallState.FAILED, reason: told };
  }
  if (entry === undefined || entry.reason === UNSPECIFIED) return { state: CallState.FAILED, reason: UNKNOWN };
  return { state: CallState.FAILED, reason: entry.reason };
}
