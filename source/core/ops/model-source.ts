import { readFile } from "node:fs/promises";
import { join } from "node:path";
import JSON5 from "json5";
import { UserError } from "../domain/errors.js";
import type { NodeConfig } from "../domain/schema.js";
import { displayPath, openclawStateDir } from "../infra/paths.js";

/**
 * A model for a new node, taken from an existing OpenClaw profile (OpenClaw 2026.9.6 keeps it in
 * openclaw.json): the agents' default model, the `models.providers` entries it names, and the
 * `auth.profiles`/`auth.order` entries of those providers. An inline `apiKey` travels inside that
 * config (file to file, through stdin, never argv); a key in the profile's SQLite auth store
 * cannot be copied (OpenClaw says not to copy its databases), so that case is named with its fix.
 */
export interface ModelSource {
  /** The node (or "main") it came from. */
  from: string;
  /** "provider/model". */
  primary: string;
  /** The part of openclaw.json that carries it, ready for `config patch`. */
  patch: Record<string, unknown>;
  /** Where the credentials come from, in words (never the key). */
  auth: string;
  /** Set when the key is not in the config: the command that gives the new profile one. */
  missingAuth?: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** Pure: the model part of a profile's config, or undefined when it names no model. */
export function modelSourceOf(config: Json, from: string, newProfile: string): ModelSource | undefined {
  const agents = isObject(config.agents) ? config.agents : {};
  const defaults = isObject(agents.defaults) ? agents.defaults : {};
  const model = defaults.model;
  const primary = typeof model === "string" ? model : isObject(model) ? model.primary : undefined;
  if (typeof primary !== "string" || !primary.includes("/")) return undefined;
  const fallbacks = isObject(model) && Array.isArray(model.fallbacks) ? model.fallbacks : [];
  const providerIds = new Set(
    [primary, ...fallbacks].filter((m): m is string => typeof m === "string").map((m) => m.split("/")[0]!),
  );
  const models = isObject(config.models) ? config.models : {};
  const allProviders = isObject(models.providers) ? models.providers : {};
  const providers: Json = {};
  for (const id of providerIds) if (isObject(allProviders[id])) providers[id] = allProviders[id];
  const patch: Json = { agents: { defaults: { model } } };
  if (Object.keys(providers).length) patch.models = { providers };
  const auth = isObject(config.auth) ? config.auth : {};
  const authPatch = authEntriesFor(auth, providerIds);
  if (authPatch) patch.auth = authPatch;

  const provider = primary.split("/")[0]!;
  const key = isObject(allProviders[provider]) ? allProviders[provider].apiKey : undefined;
  const paste = `openclaw --profile ${newProfile} models auth paste-api-key --provider ${provider}`;
  if (typeof key === "string" && key.length > 0) {
    const env = /^\$\{(\w+)\}$/.exec(key)?.[1];
    return env
      ? {
          from,
          primary,
          patch,
          auth: `the key comes from $${env}: the new gateway needs it in its environment too`,
        }
      : { from, primary, patch, auth: `its key is copied into the new profile's openclaw.json (mode 0600)` };
  }
  if (isObject(key) && key.source === "env" && typeof key.id === "string") {
    return {
      from,
      primary,
      patch,
      auth: `the key comes from $${key.id}: the new gateway needs it in its environment too`,
    };
  }
  if (isObject(key)) {
    return {
      from,
      primary,
      patch,
      auth: `the key is a ${String(key.source ?? "secret")} reference, copied as it is`,
    };
  }
  return {
    from,
    primary,
    patch,
    auth: `${from}'s ${provider} key is in its own auth store, which cannot be copied`,
    missingAuth: `give the new node a key: ${paste}`,
  };
}

/** The `auth.profiles` and `auth.order` entries (no secrets: those live in the auth store) of the providers. */
function authEntriesFor(auth: Json, providers: Set<string>): Json | undefined {
  const out: Json = {};
  if (isObject(auth.profiles)) {
    const profiles = Object.fromEntries(
      Object.entries(auth.profiles).filter(([id]) => providers.has(id.split(":")[0]!)),
    );
    if (Object.keys(profiles).length) out.profiles = profiles;
  }
  if (isObject(auth.order)) {
    const order = Object.fromEntries(Object.entries(auth.order).filter(([id]) => providers.has(id)));
    if (Object.keys(order).length) out.order = order;
  }
  return Object.keys(out).length ? out : undefined;
}

async function readProfileConfig(profile: string | null, env: NodeJS.ProcessEnv): Promise<Json | undefined> {
  try {
    const parsed: unknown = JSON5.parse(
      await readFile(join(openclawStateDir(profile, env), "openclaw.json"), "utf8"),
    );
    return isObject(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The model of `--model-from NODE`, or by default of the default profile (~/.openclaw), else of the
 * first node on this machine that has one; undefined when none has.
 */
export async function findModelSource(
  nodes: readonly NodeConfig[],
  machine: string,
  env: NodeJS.ProcessEnv,
  newProfile: string,
  from?: string,
): Promise<ModelSource | undefined> {
  if (from !== undefined) {
    const node = nodes.find((n) => n.id === from);
    if (!node || node.machine !== machine) {
      throw new UserError(`--model-from ${from}: there is no node ${from} on this machine.`, {
        hint: `name one of: ${
          nodes
            .filter((n) => n.machine === machine)
            .map((n) => n.id)
            .join(", ") || "(none: run clawos init)"
        }`,
        code: "usage",
      });
    }
    const config = await readProfileConfig(node.profile, env);
    const source = config && modelSourceOf(config, from, newProfile);
    if (!source) {
      throw new UserError(
        `--model-from ${from}: ${displayPath(join(openclawStateDir(node.profile, env), "openclaw.json"), env)} names no model (agents.defaults.model).`,
        { hint: "pick another node, or give --model-base-url and --model-id", code: "usage" },
      );
    }
    return source;
  }
  const candidates: { id: string; profile: string | null }[] = [
    { id: "main", profile: null },
    ...nodes
      .filter((n) => n.machine === machine && n.profile !== null)
      .map((n) => ({ id: n.id, profile: n.profile })),
  ];
  for (const c of candidates) {
    const config = await readProfileConfig(c.profile, env);
    const source = config && modelSourceOf(config, c.id, newProfile);
    if (source) return source;
  }
  return undefined;
}
