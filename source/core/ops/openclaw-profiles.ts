import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { isErrnoException } from "../domain/errors.js";
import { isValidNodeId } from "../domain/ids.js";
import { parseJson5 } from "../infra/json5.js";
import { displayPath, userHome } from "../infra/paths.js";

export const DEFAULT_GATEWAY_PORT = 18789;

export interface DiscoveredProfile {
  /** null = the default profile (~/.openclaw). */
  profile: string | null;
  nodeId: string;
  stateDir: string;
  port: number;
  hasToken: boolean;
  chatCompletionsEnabled: boolean;
  /** Set when the profile exists but cannot be used as it is. */
  problem?: string;
}

/** Find OpenClaw profiles in $HOME: `.openclaw` (node `main`) and `.openclaw-<name>` (node `<name>`). */
export async function discoverProfiles(env: NodeJS.ProcessEnv = process.env): Promise<DiscoveredProfile[]> {
  const home = userHome(env);
  let entries: string[];
  try {
    entries = await readdir(home);
  } catch (error) {
    if (isErrnoException(error, "ENOENT")) return [];
    throw error;
  }
  const found: DiscoveredProfile[] = [];
  for (const entry of entries.sort()) {
    const profile =
      entry === ".openclaw"
        ? null
        : entry.startsWith(".openclaw-")
          ? entry.slice(".openclaw-".length)
          : undefined;
    if (profile === undefined) continue;
    const stateDir = join(home, entry);
    const configFile = join(stateDir, "openclaw.json");
    let raw: string;
    try {
      raw = await readFile(configFile, "utf8");
    } catch {
      continue; // no config: not a profile (or only a state dir without one)
    }
    const nodeId = (profile ?? "main").toLowerCase().replace(/[^a-z0-9-]/g, "-");
    try {
      const config = parseJson5(raw) as {
        gateway?: {
          port?: unknown;
          auth?: { token?: unknown };
          http?: { endpoints?: { chatCompletions?: { enabled?: unknown } } };
        };
      };
      const port = typeof config.gateway?.port === "number" ? config.gateway.port : DEFAULT_GATEWAY_PORT;
      found.push({
        profile,
        nodeId,
        stateDir,
        port,
        hasToken: typeof config.gateway?.auth?.token === "string" && config.gateway.auth.token.length > 0,
        chatCompletionsEnabled: config.gateway?.http?.endpoints?.chatCompletions?.enabled === true,
        ...(isValidNodeId(nodeId) ? {} : { problem: `"${nodeId}" cannot be a node id` }),
      });
    } catch (error) {
      found.push({
        profile,
        nodeId,
        stateDir,
        port: DEFAULT_GATEWAY_PORT,
        hasToken: false,
        chatCompletionsEnabled: false,
        problem: `${displayPath(configFile, env)} is not valid JSON5 (${(error as Error).message})`,
      });
    }
  }
  return found;
}
