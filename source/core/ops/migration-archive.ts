import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { UserError } from "../domain/errors.js";
import type { NodeConfig } from "../domain/schema.js";
import { profileArgs } from "./gateway-lifecycle.js";
import { remoteConfig } from "./migration-files.js";
import { commandFailed, runCommand } from "./openclaw-command.js";

/**
 * A node's whole life travels as OpenClaw's own verified archive (`openclaw backup create
 * --verify`): config, sessions and memory (the SQLite databases, captured consistently),
 * auth profiles and the workspace. The other side unpacks it with `openclaw backup restore`
 * into a fresh directory and moves the state asset into the profile's place.
 */

/** `OpenClaw 2026.9.6 (eb377ac)` → [2026, 9, 6]; undefined when it is not that shape. */
export function parseOpenclawVersion(text: string): number[] | undefined {
  const match = /(\d{4})\.(\d{1,2})\.(\d{1,2})/.exec(text);
  return match ? match.slice(1, 4).map(Number) : undefined;
}

/** Negative when a is older than b. */
export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

export async function openclawVersion(openclaw: string, env: NodeJS.ProcessEnv): Promise<number[]> {
  const result = await runCommand(openclaw, ["--version"], env);
  const version = result.code === 0 ? parseOpenclawVersion(result.output) : undefined;
  if (!version) throw commandFailed("openclaw --version", result);
  return version;
}

/** The archive a `backup create --json` made, or its refusal in one line. */
export function parseCreated(output: string, what: string): { archivePath: string; archiveRoot: string } {
  try {
    const json = JSON.parse(output.slice(output.indexOf("{"))) as {
      archivePath?: unknown;
      archiveRoot?: unknown;
      verified?: unknown;
    };
    if (
      typeof json.archivePath === "string" &&
      typeof json.archiveRoot === "string" &&
      json.verified === true
    )
      return { archivePath: json.archivePath, archiveRoot: json.archiveRoot };
  } catch {
    // below
  }
  throw new UserError(`${what} did not report a verified archive.`);
}

/**
 * Which directory in a restored archive holds the profile's state dir (from its manifest): the
 * state asset made from `stateDir`, else the only state asset (OpenClaw may record a resolved path).
 */
export function stateAssetPath(manifestText: string, stateDir: string): string {
  const manifest = JSON.parse(manifestText) as {
    assets?: { kind?: unknown; sourcePath?: unknown; archivePath?: unknown }[];
  };
  const states = (manifest.assets ?? []).filter((a) => a.kind === "state");
  const asset =
    states.find((a) => a.sourcePath === stateDir) ?? (states.length === 1 ? states[0] : undefined);
  if (typeof asset?.archivePath !== "string" || asset.archivePath.split("/").includes(".."))
    throw new UserError(`The archive has no state directory for ${stateDir}.`);
  return asset.archivePath;
}

/** A private directory for archives in transit (outside every profile: OpenClaw refuses an output inside one). */
export function transitDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "clawos-migrate-"));
}

/** `openclaw [--profile P] backup create --verify` here, into `dir`. */
export async function archiveHere(
  openclaw: string,
  node: NodeConfig,
  env: NodeJS.ProcessEnv,
  dir: string,
): Promise<{ archivePath: string; archiveRoot: string }> {
  const args = [...profileArgs(node.profile), "backup", "create", "--verify", "--output", dir, "--json"];
  const result = await runCommand(openclaw, args, env);
  if (result.code !== 0) throw commandFailed(`openclaw ${args.join(" ")}`, result);
  return parseCreated(result.output, "openclaw backup create");
}

/**
 * Unpack an archive made elsewhere into this machine's profile place: `backup restore` into a
 * fresh directory, the present profile (if any) moved aside, the state moved in, and its
 * config pointed at this port and this place. Returns where the earlier profile went.
 */
export async function restoreHere(
  openclaw: string,
  env: NodeJS.ProcessEnv,
  archive: string,
  paths: { from: string; to: string },
  port: number,
): Promise<string | undefined> {
  const target = join(await transitDir(), "restored");
  try {
    const result = await runCommand(
      openclaw,
      ["backup", "restore", archive, "--target", target, "--json"],
      env,
    );
    if (result.code !== 0) throw commandFailed(`openclaw backup restore`, result);
    const root = (JSON.parse(result.output.slice(result.output.indexOf("{"))) as { archiveRoot?: unknown })
      .archiveRoot;
    if (typeof root !== "string" || root.includes("/"))
      throw new UserError("openclaw backup restore did not name its archive root.");
    const asset = stateAssetPath(await readFile(join(target, root, "manifest.json"), "utf8"), paths.from);
    let aside: string | undefined;
    try {
      aside = `${paths.to}.before-restore-${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}`;
      await rename(paths.to, aside);
    } catch {
      aside = undefined; // nothing there
    }
    await mkdir(posix.dirname(paths.to), { recursive: true });
    await rename(join(target, asset), paths.to);
    const configFile = join(paths.to, "openclaw.json");
    await writeFile(configFile, remoteConfig(await readFile(configFile, "utf8"), port, paths), {
      mode: 0o600,
    });
    return aside;
  } finally {
    await rm(posix.dirname(target), { recursive: true, force: true });
  }
}
