import { stat } from "node:fs/promises";
import { hostname } from "node:os";
import { isAbsolute, join } from "node:path";
import { isErrnoException, UserError } from "../domain/errors.js";
import {
  describeZodError,
  FederationConfig,
  NodeConfig,
  type NodeConfigInput,
  type Route,
} from "../domain/schema.js";
import { writeFileAtomic } from "./atomic-file.js";
import { parseJson5 } from "./json5.js";
import { configPath, defaultBlackboardPath, displayPath, expandTilde, openclawStateDir } from "./paths.js";
import { NotARegularFile, readRegularFile } from "./regular-file.js";

export interface LoadedConfig {
  home: string;
  path: string;
  exists: boolean;
  config: FederationConfig;
}

const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
const MAX_TOKEN_FILE_BYTES = 64 * 1024;
/** OpenClaw's own config, read for gateway.auth.token. */
const MAX_OPENCLAW_CONFIG_BYTES = 16 * 1024 * 1024;

export async function loadConfig(home: string): Promise<LoadedConfig> {
  const path = configPath(home);
  let raw: string;
  try {
    raw = await readRegularFile(path, MAX_CONFIG_BYTES);
  } catch (error) {
    if (isErrnoException(error, "ENOENT")) {
      return { home, path, exists: false, config: FederationConfig.parse({}) };
    }
    if (error instanceof NotARegularFile) {
      throw new UserError(`${displayPath(path)} ${error.problem}.`, {
        hint: "move it aside and run clawos init to write a fresh one (a symlink to a regular file is fine)",
        code: "config_invalid",
      });
    }
    throw new UserError(`Cannot read ${displayPath(path)}: ${(error as Error).message}`, {
      hint: "it must be a readable file: clawos init writes a fresh one (move the old one aside first)",
      cause: error,
    });
  }
  return { home, path, exists: true, config: parseConfig(raw, path) };
}

export function parseConfig(raw: string, path: string): FederationConfig {
  let data: unknown;
  try {
    data = parseJson5(raw);
  } catch (error) {
    throw new UserError(
      `${displayPath(path)} is not valid JSON: ${(error as Error).message.replace(/^JSON5: /, "")}`,
      {
        hint: "fix the syntax there, or move the file aside and run `clawos init` to start afresh",
        code: "config_invalid",
      },
    );
  }
  const result = FederationConfig.safeParse(data);
  if (!result.success) {
    const { field, problem } = describeZodError(result.error);
    // "nodes.0.port" means little to a person: name the node by its id when it has one.
    const index = /^nodes\.(\d+)/.exec(field)?.[1];
    const nodes = (data as { nodes?: unknown })?.nodes;
    const id =
      index !== undefined && Array.isArray(nodes)
        ? (nodes[Number(index)] as { id?: unknown })?.id
        : undefined;
    const where = typeof id === "string" ? `node "${id.slice(0, 40)}": field "${field}"` : `field "${field}"`;
    throw new UserError(`${displayPath(path)}: ${where} ${problem}.`, {
      hint: fixHintFor(field),
      code: "config_invalid",
    });
  }
  const ids = new Set<string>();
  for (const node of result.data.nodes ?? []) {
    if (ids.has(node.id)) {
      throw new UserError(`${displayPath(path)}: node "${node.id}" is listed twice.`, {
        hint: "delete one of the two entries in that file (clawos commands need it valid first)",
        code: "config_invalid",
      });
    }
    ids.add(node.id);
  }
  return result.data;
}

function fixHintFor(field: string): string {
  if (field.startsWith("nodes"))
    return "edit that node's entry in the file by hand (clawos commands, nodes remove too, need it valid first)";
  if (field.startsWith("blackboard"))
    return 'use { "driver": "directory" } or { "driver": "nats", "servers": [...] }';
  return "edit the file; `clawos init` writes a fresh one if you move it aside";
}

export async function saveConfig(loaded: LoadedConfig): Promise<void> {
  const config = FederationConfig.parse(loaded.config);
  await writeFileAtomic(loaded.path, `${JSON.stringify(config, null, 2)}\n`);
}

export function parseNode(input: NodeConfigInput): NodeConfig {
  const result = NodeConfig.safeParse(input);
  if (!result.success) {
    const { field, problem } = describeZodError(result.error);
    throw new UserError(`Node ${field} ${problem}.`, { code: "usage" });
  }
  return result.data;
}

/**
 * This machine's name. The file's `machine` wins: nodes are registered under it, so an
 * environment left over from another shell must not turn this machine into another one.
 * CLAWOS_MACHINE, then the hostname, only fill it in when the file has none.
 */
export function thisMachine(config: FederationConfig, env: NodeJS.ProcessEnv = process.env): string {
  return config.machine || env.CLAWOS_MACHINE || hostname();
}

export function blackboardDir(loaded: LoadedConfig, env: NodeJS.ProcessEnv = process.env): string {
  const bb = loaded.config.blackboard;
  if (bb.driver === "directory" && bb.path) {
    const p = expandTilde(bb.path, env);
    return isAbsolute(p) ? p : join(loaded.home, p);
  }
  return defaultBlackboardPath(loaded.home);
}

/** How this machine reaches a node; "planned" when it has no gateway yet. */
export function routeOf(node: NodeConfig, machine: string): Route | "planned" {
  if (node.port === null) return "planned";
  if (node.transport !== "auto") return node.transport;
  return node.machine === machine ? "localhost" : "blackboard";
}

export interface ResolvedToken {
  token?: string;
  /** Where it came from, for messages. Never the token itself. */
  source: string;
  problem?: string;
  /** How to fix `problem`. */
  hint?: string;
}

/** Where a node's token file is, for a node whose token source is a file. */
export function tokenFilePath(file: string, home: string, env: NodeJS.ProcessEnv = process.env): string {
  const expanded = expandTilde(file, env);
  return isAbsolute(expanded) ? expanded : join(home, expanded);
}

/**
 * Token files others can read (any group or other permission bit): one line each, for
 * `clawos status` to show until fixed (`clawos doctor --fix` makes them 0600).
 */
export async function looseTokenFiles(
  nodes: readonly NodeConfig[],
  home: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string[]> {
  const lines: string[] = [];
  for (const node of nodes) {
    if (!("file" in node.token)) continue;
    const file = tokenFilePath(node.token.file, home, env);
    const mode = (await stat(file).catch(() => undefined))?.mode;
    if (mode !== undefined && mode & 0o077)
      lines.push(
        `${node.id}: token file ${displayPath(file, env)} has mode ${(mode & 0o777).toString(8)}, so others can read it (chmod 600 it, or clawos doctor --fix)`,
      );
  }
  return lines;
}

export async function resolveToken(
  node: NodeConfig,
  home: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedToken> {
  const source = node.token;
  if ("none" in source) return { source: "no token (token: none)" };
  if ("env" in source) {
    const value = env[source.env];
    return value
      ? { token: value.trim(), source: `environment variable ${source.env}` }
      : {
          source: `environment variable ${source.env}`,
          problem: `${source.env} is not set`,
          hint: `set ${source.env} where clawos runs (for the worker service too), or give the node a token file (clawos nodes add ${node.id} --token-file FILE)`,
        };
  }
  if ("file" in source) {
    const file = tokenFilePath(source.file, home, env);
    const label = `token file ${displayPath(file, env)}`;
    try {
      const value = (await readRegularFile(file, MAX_TOKEN_FILE_BYTES)).trim();
      const hint = `put the gateway's token in ${displayPath(file, env)} (chmod 600 it)`;
      return value ? { token: value, source: label } : { source: label, problem: "the file is empty", hint };
    } catch (error) {
      return {
        source: label,
        problem: isErrnoException(error, "ENOENT")
          ? "the file does not exist"
          : error instanceof NotARegularFile
            ? `it ${error.problem}`
            : (error as Error).message,
        hint: `put the gateway's token in ${displayPath(file, env)} (chmod 600 it), or point the node elsewhere in federation.json`,
      };
    }
  }
  const file = join(openclawStateDir(node.profile, env), "openclaw.json");
  const label = `gateway.auth.token in ${displayPath(file, env)}`;
  try {
    const parsed = parseJson5(await readRegularFile(file, MAX_OPENCLAW_CONFIG_BYTES)) as {
      gateway?: { auth?: { token?: unknown } };
    };
    const value = parsed?.gateway?.auth?.token;
    return typeof value === "string" && value
      ? { token: value, source: label }
      : {
          source: label,
          problem: "gateway.auth.token is not set there",
          hint: "the gateway needs token auth: run openclaw onboard for that profile, or give the node a token file (--token-file)",
        };
  } catch (error) {
    const missing = isErrnoException(error, "ENOENT");
    if (error instanceof NotARegularFile)
      return {
        source: label,
        problem: `it ${error.problem}`,
        hint: `move it aside; openclaw${node.profile ? ` --profile ${node.profile}` : ""} onboard writes a fresh one`,
      };
    return {
      source: label,
      problem: missing ? "the file does not exist" : `cannot parse it (${(error as Error).message})`,
      hint: missing
        ? `is the node's profile right (${node.profile ?? "the default profile"})? clawos init lists the profiles it finds`
        : "fix the syntax error at that line (the file is JSON5: comments and trailing commas are fine)",
    };
  }
}
