import JSON5 from "json5";
import type { IncubateOptions } from "./incubate.js";

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split(".");
  let cursor = target;
  for (const part of parts.slice(0, -1)) {
    const next = cursor[part];
    cursor[part] = typeof next === "object" && next !== null ? next : {};
    cursor = cursor[part] as Record<string, unknown>;
  }
  cursor[parts.at(-1)!] = value;
}

/** Objects merge key by key; anything else (arrays included) replaces, as `config patch` does. */
export function mergeInto(target: Record<string, unknown>, from: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(from)) {
    const here = target[key];
    if (isPlainObject(value) && isPlainObject(here)) mergeInto(here, value);
    else target[key] = value;
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** `--set key=value` pairs as one config fragment (values parsed as JSON5, else kept as text). */
export function settingsPatch(settings: [string, string][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of settings) setPath(out, key, parseSettingValue(value));
  return out;
}

function parseSettingValue(raw: string): unknown {
  try {
    return JSON5.parse(raw);
  } catch {
    return raw;
  }
}

/** The openclaw.json that `onboard` would write, written directly (--config-only). */
export function profileConfigFor(
  options: IncubateOptions,
  port: number,
  token: string,
  /** The model part of another profile's config (incubate's --model-from), merged in. */
  modelPatch?: Record<string, unknown>,
): Record<string, unknown> {
  const config: Record<string, unknown> = {
    gateway: {
      mode: "local",
      port,
      bind: "loopback",
      auth: { mode: "token", token },
      http: { endpoints: { chatCompletions: { enabled: true } } },
    },
  };
  if (options.model) {
    const m = options.model;
    config.models = {
      providers: {
        [m.providerId]: {
          baseUrl: m.baseUrl,
          apiKey: m.apiKey,
          api: "openai-completions",
          models: [
            {
              id: m.id,
              name: m.id,
              reasoning: false,
              input: ["text"],
              cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
              contextWindow: 32_768,
              maxTokens: 4_096,
            },
          ],
        },
      },
    };
    config.agents = { defaults: { model: { primary: `${m.providerId}/${m.id}` } } };
  }
  if (modelPatch) mergeInto(config, modelPatch);
  for (const [key, value] of options.settings ?? []) setPath(config, key, parseSettingValue(value));
  return config;
}
