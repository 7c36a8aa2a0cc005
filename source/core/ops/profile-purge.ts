import type { Dirent } from "node:fs";
import { lstat, readdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { isErrnoException, UserError } from "../domain/errors.js";
import type { NodeConfig } from "../domain/schema.js";
import { displayPath, openclawStateDir } from "../infra/paths.js";

/** A profile directory that `nodes remove --purge` would move aside, and what is in it. */
export interface ProfileToPurge {
  path: string;
  /** Where it goes: beside it, renamed, never deleted. */
  aside: string;
  files: number;
  bytes: number;
  /** What kinds of state it holds, for the confirmation ("sessions and memory (SQLite)", "workspace", …). */
  holds: string[];
}

/** Count files and bytes without following links; stops counting at `limit` files. */
export async function measureTree(dir: string, limit = 100_000): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const walk = async (path: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await readdir(path, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (files >= limit) return;
      const full = join(path, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) {
        files++;
        bytes += (await lstat(full).catch(() => undefined))?.size ?? 0;
      }
    }
  };
  await walk(dir);
  return { files, bytes };
}

function stamp(now = new Date()): string {
  return now.toISOString().replace(/[-:]/g, "").slice(0, 15);
}

/**
 * The node's profile directory and what moving it aside takes away. Refused for the default
 * profile (~/.openclaw holds clawos's own home) and for a profile another node uses too.
 */
export async function profileToPurge(
  env: NodeJS.ProcessEnv,
  node: NodeConfig,
  others: readonly NodeConfig[],
): Promise<ProfileToPurge | undefined> {
  if (!node.profile || node.profile === "default")
    throw new UserError(
      `Node ${node.id} uses the default profile ${displayPath(openclawStateDir(null, env), env)}, which also holds clawos's own files; --purge does not move it.`,
      { code: "usage", hint: "remove the node without --purge, and move the profile by hand if you mean it" },
    );
  const shared = others.find(
    (n) => n.id !== node.id && n.machine === node.machine && n.profile === node.profile,
  );
  if (shared)
    throw new UserError(
      `Node ${shared.id} uses the same profile (${node.profile}); --purge would take it away too.`,
      {
        code: "usage",
        hint: `remove ${node.id} without --purge`,
      },
    );
  const path = openclawStateDir(node.profile, env);
  try {
    if (!(await lstat(path)).isDirectory()) return undefined;
  } catch (error) {
    if (isErrnoException(error, "ENOENT")) return undefined;
    throw error;
  }
  const { files, bytes } = await measureTree(path);
  const has = async (rel: string) =>
    lstat(join(path, rel)).then(
      () => true,
      () => false,
    );
  const holds = [
    ...((await has("openclaw.json")) ? ["config and gateway token"] : []),
    ...((await has("agents")) ? ["sessions, memory and auth profiles"] : []),
    ...((await has("workspace")) ? ["workspace"] : []),
  ];
  return { path, aside: `${path}.removed-${stamp()}`, files, bytes, holds };
}

export function describeBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}

export function describeSize(files: number, bytes: number): string {
  return `${files} file${files === 1 ? "" : "s"}, ${describeBytes(bytes)}`;
}

export function describePurge(purge: ProfileToPurge, env: NodeJS.ProcessEnv): string {
  return `${displayPath(purge.path, env)} (${describeSize(purge.files, purge.bytes)}${purge.holds.length ? `: ${purge.holds.join(", ")}` : ""}) moves aside to ${displayPath(purge.aside, env)}`;
}

/** Move the profile aside (a rename: nothing is deleted). */
export async function purgeProfile(purge: ProfileToPurge): Promise<void> {
  await rename(purge.path, purge.aside);
}
