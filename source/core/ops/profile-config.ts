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
  for (const [key, value] of options.settings ?? []) setPath(config, key, parseSettingValue(value));
  return config;
}
