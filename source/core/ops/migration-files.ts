import type { Dirent } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import JSON5 from "json5";
import { isErrnoException, UserError } from "../domain/errors.js";
import { displayPath } from "../infra/paths.js";

/** Workspace files that make an agent what it is; caches, locks, logs and sessions never travel. */
const WORKSPACE_FILE = /\.(md|txt|json|json5|ya?ml)$/i;
const NEVER =
  /(^|\/)(cache|caches|\.cache|locks?|logs?|sessions?|tmp|node_modules|\.git)(\/|$)|\.(lock|log|sqlite|db|pid|sock)$/i;

/** Relative paths to copy from a profile's state dir. */
export async function filesToCopy(stateDir: string): Promise<{ files: string[]; skipped: string[] }> {
  const files: string[] = [];
  const skipped: string[] = [];
  try {
    await stat(join(stateDir, "openclaw.json"));
    files.push("openclaw.json");
  } catch {
    throw new UserError(`${displayPath(stateDir)} has no openclaw.json; there is nothing to migrate.`);
  }
  const walk = async (rel: string) => {
    let entries: Dirent[];
    try {
      entries = await readdir(join(stateDir, rel), { withFileTypes: true });
    } catch (error) {
      if (isErrnoException(error, "ENOENT")) return;
      throw error;
    }
    for (const e of entries) {
      const path = posix.join(rel, e.name);
      if (NEVER.test(path)) {
        skipped.push(path);
        continue;
      }
      if (e.isDirectory()) await walk(path);
      else if (e.isFile() && WORKSPACE_FILE.test(e.name)) files.push(path);
      else skipped.push(path);
    }
  };
  await walk("workspace");
  // Each agent's own settings and model credentials (auth-profiles.json, models.json):
  // without them the agent there cannot reach its model. Never its sessions.
  let agents: Dirent[] = [];
  try {
    agents = await readdir(join(stateDir, "agents"), { withFileTypes: true });
  } catch (error) {
    if (!isErrnoException(error, "ENOENT")) throw error;
  }
  for (const agent of agents) {
    if (!agent.isDirectory()) continue;
    const rel = posix.join("agents", agent.name, "agent");
    let entries: Dirent[] = [];
    try {
      entries = await readdir(join(stateDir, rel), { withFileTypes: true });
    } catch (error) {
      if (!isErrnoException(error, "ENOENT")) throw error;
    }
    for (const e of entries) {
      const path = posix.join(rel, e.name);
      if (e.isFile() && /\.json5?$/i.test(e.name) && !NEVER.test(path)) files.push(path);
    }
  }
  // Provider keys may live in the profile's .env.
  try {
    if ((await stat(join(stateDir, ".env"))).isFile()) files.push(".env");
  } catch {
    // none
  }
  return { files, skipped };
}

/** Files that hold secrets: written 0600 there, as here. */
export function isSecret(rel: string): boolean {
  return rel === "openclaw.json" || rel === ".env" || rel.startsWith("agents/");
}

/**
 * The copied config, set to the remote port and bound to loopback. OpenClaw writes absolute
 * paths into it (agents.defaults.workspace, agents.entries.*.agentDir): those inside the
 * profile are moved to the profile's place there, or the gateway there would look for its
 * workspace under this machine's home.
 */
export function remoteConfig(raw: string, port: number, paths: { from: string; to: string }): string {
  const relocate = (value: unknown): unknown => {
    if (typeof value === "string") {
      if (value === paths.from) return paths.to;
      if (value.startsWith(`${paths.from}/`)) return paths.to + value.slice(paths.from.length);
      return value;
    }
    if (Array.isArray(value)) return value.map(relocate);
    if (value && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relocate(v)]));
    return value;
  };
  const config = relocate(JSON5.parse(raw)) as { gateway?: Record<string, unknown> };
  config.gateway = { ...(config.gateway ?? {}), port, bind: "loopback" };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** Absolute paths in the config under this machine's home but outside the profile: they do not travel. */
export function pathsOutside(raw: string, stateDir: string, home: string): string[] {
  const found = new Set<string>();
  const visit = (value: unknown) => {
    if (typeof value === "string") {
      if (home && value.startsWith(`${home}/`) && value !== stateDir && !value.startsWith(`${stateDir}/`))
        found.add(value);
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") Object.values(value).forEach(visit);
  };
  try {
    visit(JSON5.parse(raw));
  } catch {
    // an unreadable config fails later with its own message
  }
  return [...found];
}
