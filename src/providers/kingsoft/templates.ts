/**
 * Notification templates are Kingsoft's own (created and approved in its console, each
 * with a numeric TplId). A Notify names a logical template; VOICECODE_KINGSOFT_TEMPLATES
 * maps those names to Kingsoft ids, so callers never hard-code a provider's ids and a
 * route can carry one logical template through several providers.
 *
 *   compact:  delivery=100001,order_shipped=100002
 *   JSON:     {"delivery": {"id": "100001", "text": "您的快递{id}已到门口，确认请按1"},
 *              "order_shipped": "100002"}
 *
 * The template's text is optional. With it, the adapter checks the rendered message
 * against Kingsoft's 180-character limit exactly, and that every variable it names is
 * given; without it, the values alone are counted (the message is at least that long).
 */

export interface KingsoftTemplate {
  /** Kingsoft's TplId (digits). */
  readonly id: string;
  /** The approved text with {name} variables, when configured. */
  readonly text: string | undefined;
}

export type KingsoftTemplates = ReadonlyMap<string, KingsoftTemplate>;

const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const TPL_ID = /^[0-9]{1,20}$/;

/** Parses the variable's value; returns the problems instead when there are any. */
export function parseKingsoftTemplates(value: string): { templates: KingsoftTemplates } | { problems: string[] } {
  const trimmed = value.trim();
  const entries: [string, unknown][] = [];
  if (trimmed.startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      return { problems: ["not valid JSON"] };
    }
    if (typeof json !== "object" || json === null || Array.isArray(json)) return { problems: ["must be a JSON object"] };
    entries.push(...Object.entries(json));
  } else {
    for (const pair of trimmed.split(",")) {
      const at = pair.indexOf("=");
      if (at < 0) return { problems: [`"${pair.trim()}" is not name=id`] };
      entries.push([pair.slice(0, at).trim(), pair.slice(at + 1).trim()]);
    }
  }
  const templates = new Map<string, KingsoftTemplate>();
  const problems: string[] = [];
  for (const [name, spec] of entries) {
    if (!NAME.test(name)) problems.push(`template name "${name}" must be 1-64 of A-Z a-z 0-9 _ - .`);
    else if (templates.has(name)) problems.push(`template "${name}" is listed twice`);
    const id = typeof spec === "string" ? spec : typeof spec === "object" && spec !== null ? (spec as { id?: unknown }).id : undefined;
    const text = typeof spec === "object" && spec !== null ? (spec as { text?: unknown }).text : undefined;
    if (typeof id !== "string" || !TPL_ID.test(id)) problems.push(`template "${name}": id must be Kingsoft's numeric TplId`);
    else if (text !== undefined && typeof text !== "string") problems.push(`template "${name}": text must be a string`);
    else templates.set(name, { id, text: typeof text === "string" ? text : undefined });
  }
  if (templates.size === 0 && problems.length === 0) problems.push("lists no template");
  return problems.length > 0 ? { problems } : { templates };
}

/** The message Kingsoft will speak: the text with each {name} replaced by its value. */
export function renderTemplate(text: string, params: Readonly<Record<string, string>>): string {
  return text.replace(/\{([A-Za-z0-9_]+)\}/g, (whole, name: string) => params[name] ?? whole);
}

/** The variables a template text names, in order of appearance, once each. */
export function templateVariables(text: string): string[] {
  return [...new Set([...text.matchAll(/\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1] ?? ""))];
}
