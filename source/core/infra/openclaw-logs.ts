import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseJson5 } from "./json5.js";
import { openclawStateDir } from "./paths.js";

/**
 * Pure: where OpenClaw 2026.9.6 writes a profile's gateway log when `logging.file` is unset
 * (docs/logging.md): /tmp/openclaw/openclaw[-<profile>]-YYYY-MM-DD.log, dated in local time.
 * A profile name that is not plain lowercase is escaped by OpenClaw; then the command is the
 * reliable way, so it is named beside the path.
 */
export function defaultGatewayLog(profile: string | null, now = new Date()): string {
  const day = `${now.getFullYear()}-${String(now.getMonth() + 1).padStart(2, "0")}-${String(now.getDate()).padStart(2, "0")}`;
  const named = profile && profile !== "default" ? `-${profile}` : "";
  return `/tmp/openclaw/openclaw${named}-${day}.log`;
}

/** The command that tails a profile's gateway log, wherever it is. */
export function logsCommand(profile: string | null): string {
  return profile && profile !== "default"
    ? `openclaw --profile ${profile} logs --follow`
    : "openclaw logs --follow";
}

/** This machine's log of a profile's gateway: `logging.file` from its openclaw.json, else OpenClaw's default. */
export async function gatewayLogOf(profile: string | null, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const raw = await readFile(join(openclawStateDir(profile, env), "openclaw.json"), "utf8");
    const file = (parseJson5(raw) as { logging?: { file?: unknown } }).logging?.file;
    if (typeof file === "string" && file.trim()) return file.trim();
  } catch {
    // No readable profile here: OpenClaw's default is still where its gateway would log.
  }
  return defaultGatewayLog(profile);
}
