import { sanitizeLine, sanitizeText } from "../core/infra/sanitize.js";

declare const safeBrand: unique symbol;

/**
 * Text that has been through the sanitizer: no escape sequence, control character or bidi
 * override. Only the functions here make one, so a presenter that takes SafeText cannot be
 * handed a raw record field by mistake: that is a type error.
 */
export type SafeText = string & { readonly [safeBrand]: true };

/** A record with every string in it (however deep) sanitized. Literal unions keep their type. */
export type Safe<T> = T extends string
  ? T & SafeText
  : T extends number | boolean | bigint | symbol | null | undefined
    ? T
    : T extends Date
      ? T
      : T extends readonly (infer U)[]
        ? Safe<U>[]
        : { [K in keyof T]: Safe<T[K]> };

/** Untrusted text → one line: newlines become spaces. */
export function safeLine(text: string | undefined | null): SafeText {
  return sanitizeLine(text ?? "") as SafeText;
}

/** Untrusted, possibly multi-line text: newlines stay. */
export function safeBlock(text: string | undefined | null): SafeText {
  return sanitizeText(text ?? "") as SafeText;
}

/** Fields that may span lines (a request, a reply); every other string becomes one line. */
const MULTILINE_FIELDS: ReadonlySet<string> = new Set(["text", "reply"]);

/**
 * A record (a task or node view, status data) with every string sanitized, for presenters.
 * Free text (`text`, `reply`) keeps its newlines; everything else is one line, so a planted
 * newline cannot forge a line of its own.
 */
export function toSafe<T>(value: T, key = ""): Safe<T> {
  if (typeof value === "string")
    return (MULTILINE_FIELDS.has(key) ? safeBlock(value) : safeLine(value)) as Safe<T>;
  if (value === null || typeof value !== "object" || value instanceof Date) return value as Safe<T>;
  if (Array.isArray(value)) return value.map((item) => toSafe(item, key)) as Safe<T>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = toSafe(v, k);
  return out as Safe<T>;
}

/**
 * Builds a line of output from code-written text and sanitized values: `safe\`Task ${v.id}\``.
 * Only SafeText and numbers may be interpolated, so a raw record field does not compile.
 */
export function safe(strings: TemplateStringsArray, ...values: (SafeText | number)[]): SafeText {
  let out = strings[0] ?? "";
  values.forEach((value, i) => {
    out += String(value) + (strings[i + 1] ?? "");
  });
  return out as SafeText;
}

/** Joins sanitized pieces; the separator is code-written. */
export function joinSafe(parts: readonly SafeText[], separator: string): SafeText {
  return parts.join(separator) as SafeText;
}

/** A sanitized block as one line (for a table cell). */
export function oneLine(text: SafeText): SafeText {
  return text.replace(/\r?\n|\r/g, " ") as SafeText;
}
