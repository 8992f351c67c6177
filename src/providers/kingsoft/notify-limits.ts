/**
 * What CallNotify and CallIvr accept beyond the core's validation, from the seed's
 * TplParams remarks: mainland mobiles only; a template configured for Kingsoft; each
 * value at most 100 characters, without a URL and without escape characters (\n, \b
 * and the like); the rendered message at most 180 characters. Checked before any network
 * call, so the caller gets INVALID_ARGUMENT naming the field instead of a refusal
 * (TplContainUrl, InvalidTplLen, InvalidContentLen). The seed's API error table words
 * the two lengths as 50 and 100; the request table (100 and 180) is the one followed.
 * Values are never quoted back in a problem: they may be personal data.
 */
import type { ProviderNotifyRequest, RequestProblem } from "../../core/provider.js";
import { hasControlCharacter } from "../../core/validate-fields.js";
import { checkMainlandMobile } from "./limits.js";
import { type KingsoftTemplates, renderTemplate, templateVariables } from "./templates.js";

export const MAX_TEMPLATE_VALUE_CHARS = 100;
export const MAX_RENDERED_CHARS = 180;

// A scheme, a www. host, or a bare domain with a common top-level domain.
const URL_LIKE = /[a-z][a-z0-9+.-]*:\/\/|www\.|\b[a-z0-9-]+(\.[a-z0-9-]+)*\.(com|cn|net|org|info|io|top|xyz|me|cc|co|vip|shop|site|link|ly)\b/i;

/** Characters counted as Kingsoft counts them: by code point, a Chinese character is one. */
function chars(value: string): number {
  return [...value].length;
}

export function checkKingsoftNotify(templates: KingsoftTemplates) {
  return (request: ProviderNotifyRequest): RequestProblem | undefined => {
    const phone = checkMainlandMobile(request.phoneNumber);
    if (phone !== undefined) return phone;
    const template = templates.get(request.templateName);
    if (template === undefined) {
      const known = [...templates.keys()];
      return {
        field: "template_name",
        problem:
          known.length === 0
            ? "kingsoft has no notification templates configured (VOICECODE_KINGSOFT_TEMPLATES)"
            : `kingsoft has no template of that name; configured: ${known.join(", ")}`,
      };
    }
    for (const [key, value] of Object.entries(request.templateParams)) {
      const field = `template_params[${key}]`;
      if (chars(value) > MAX_TEMPLATE_VALUE_CHARS) {
        return { field, problem: `kingsoft takes template values of at most ${MAX_TEMPLATE_VALUE_CHARS} characters` };
      }
      if (URL_LIKE.test(value)) return { field, problem: "kingsoft refuses URLs in template values" };
      if (hasControlCharacter(value) || value.includes("\\")) {
        return { field, problem: "kingsoft refuses escape characters (\\n, \\b, ...) in template values" };
      }
    }
    if (template.text !== undefined) {
      const missing = templateVariables(template.text).find((name) => request.templateParams[name] === undefined);
      if (missing !== undefined) {
        return { field: `template_params[${missing}]`, problem: `required by kingsoft template "${request.templateName}"` };
      }
    }
    const rendered =
      template.text === undefined
        ? Object.values(request.templateParams).reduce((sum, v) => sum + chars(v), 0)
        : chars(renderTemplate(template.text, request.templateParams));
    if (rendered > MAX_RENDERED_CHARS) {
      return {
        field: "template_params",
        problem: `kingsoft speaks messages of at most ${MAX_RENDERED_CHARS} characters; this one has ${rendered}${template.text === undefined ? " in its values alone" : ""}`,
      };
    }
    return undefined;
  };
}
