/**
 * The planted-files storm of the serve soak: what an attacker with write access to the
 * shared blackboard folder drops into it, a decoy "outside" directory those plants point
 * at, and afterwards what became of each plant and whether the decoy is byte-identical.
 *
 * Everything lives under the soak's own temp directory: the "outside" the plants aim at
 * is a decoy made here, never a real home.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmod,
  chown,
  lchown,
  lstat,
  mkdir,
  readdir,
  readFile,
  symlink,
  utimes,
  writeFile,
} from "node:fs/promises";
import { join, relative } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Every planted request-like file has an id with this prefix (the audit ignores them). */
export const PLANT_PREFIX = "req_soakplant";

export interface Owner {
  uid: number;
  gid: number;
}

// ── the decoy ────────────────────────────────────────────────────────────────

/** A stand-in for ~/.ssh: a key, an authorized_keys, and files older than an hour (what a temp sweep deletes). */
export async function makeDecoy(dir: string, owner: Owner | undefined): Promise<void> {
  await mkdir(join(dir, "old"), { recursive: true });
  const files: [string, string, number][] = [
    [
      "id_ed25519",
      "-----BEGIN OPENSSH PRIVATE KEY-----\ndecoy key material\n-----END OPENSSH PRIVATE KEY-----\n",
      0o600,
    ],
    ["authorized_keys", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIdecoy decoy@outside\n", 0o644],
    ["notes.txt", "the user's own notes: must survive the soak\n", 0o644],
    ["old/archive.txt", "an old file: a temp sweep through a symlink would delete it\n", 0o644],
    ["old/req_decoy.json", '{"schema":"clawos.task/1","id":"req_decoy"}\n', 0o644],
  ];
  const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
  for (const [name, body, mode] of files) {
    const path = join(dir, name);
    await writeFile(path, body, { mode });
    await chmod(path, mode);
    await utimes(path, twoHoursAgo, twoHoursAgo);
  }
  if (owner)
    for (const p of [dir, join(dir, "old"), ...files.map(([n]) => join(dir, n))])
      await chown(p, owner.uid, owner.gid);
}

/** path → "type mode size sha256" of every entry under `dir` (lstat: links are not followed). */
export async function fingerprint(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (at: string): Promise<void> => {
    for (const name of (await readdir(at)).sort()) {
      const path = join(at, name);
      const st = await lstat(path);
      const rel = relative(dir, path);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out.set(rel, `dir ${mode}`);
        await walk(path);
      } else if (st.isFile()) {
        const hash = createHash("sha256")
          .update(await readFile(path))
          .digest("hex");
        out.set(rel, `file ${mode} ${st.size} ${hash}`);
      } else out.set(rel, `other ${mode}`);
    }
  };
  await walk(dir);
  return out;
}

/** Differences between two fingerprints, one line each. */
export function compareFingerprints(before: Map<string, string>, after: Map<string, string>): string[] {
  const changes: string[] = [];
  for (const [path, was] of before) {
    const now = after.get(path);
    if (now === undefined) changes.push(`${path}: gone`);
    else if (now !== was) changes.push(`${path}: changed (${was} → ${now})`);
  }
  for (const path of after.keys()) if (!before.has(path)) changes.push(`${path}: appeared`);
  return changes;
}

// ── the plants ───────────────────────────────────────────────────────────────

export const PLANT_KINDS = [
  "symlink-dir in requests/",
  "symlink-file in requests/",
  "symlink-dir in claimed/",
  "symlink-dir in tmp/",
  "symlink-file in results/",
  "fifo in requests/",
  "mode-000 request",
  "oversized record",
  "hostile-fields request",
  "future-mtime in reaping/",
  "future-mtime in index/",
] as const;
export type PlantKind = (typeof PLANT_KINDS)[number];

export interface Plant {
  kind: PlantKind;
  /** Relative to the blackboard. */
  path: string;
  atS: number;
}

const FUTURE = new Date("2099-01-01T00:00:00Z");

function request(id: string, node: string, extra: Record<string, unknown> = {}): string {
  const now = new Date().toISOString();
  return JSON.stringify({
    schema: "clawos.task/1",
    id,
    target: node,
    priority: "P2",
    text: `planted ${id}`,
    tags: [],
    createdAt: now,
    createdBy: "planted",
    attempt: 1,
    maxAttempts: 3,
    route: { node, transport: "blackboard", reason: "planted", decidedAt: now },
    history: [],
    ...extra,
  });
}

/** Escape sequences a hostile record carries: clipboard write, title change, screen clear. */
const HOSTILE = "\u001b]52;c;cGxhbnRlZA==\u0007\u001b]0;pwned\u0007\u001b[2J\u001b[H";

function kindArea(kind: PlantKind): string {
  return /in (\w+)\/$/.exec(kind)?.[1] ?? "requests";
}

/** Drops one plant of `kind` into the blackboard; returns where. */
export async function plant(
  blackboard: string,
  decoy: string,
  kind: PlantKind,
  n: number,
  nodes: readonly string[],
  owner: Owner | undefined,
): Promise<string> {
  const id = `${PLANT_PREFIX}_${n}`;
  const node = nodes[n % nodes.length]!;
  const dir = (area: string) =>
    join(blackboard, area, ...(area === "results" || area === "tmp" || area === "index" ? [] : [node]));
  // A folder the driver has not made yet is made here, owned as the driver would own it.
  const made = await mkdir(dir(kindArea(kind)), { recursive: true });
  if (made && owner) for (const d of [made, dir(kindArea(kind))]) await chown(d, owner.uid, owner.gid);
  const at = (area: string, name: string) => join(dir(area), name);
  let path: string;
  switch (kind) {
    case "symlink-dir in requests/":
      path = at("requests", `${id}.json`);
      await symlink(decoy, path, "dir");
      break;
    case "symlink-file in requests/":
      path = at("requests", `${id}.json`);
      await symlink(join(decoy, "id_ed25519"), path);
      break;
    case "symlink-dir in claimed/":
      path = at("claimed", `${id}.c${n}.json`);
      await symlink(decoy, path, "dir");
      break;
    case "symlink-dir in tmp/":
      path = at("tmp", `soakplant-${n}`);
      await symlink(join(decoy, "old"), path, "dir");
      break;
    case "symlink-file in results/":
      path = at("results", `${id}.a1.completed.json`);
      await symlink(join(decoy, "notes.txt"), path);
      break;
    case "fifo in requests/":
      path = at("requests", `${id}.json`);
      await run("mkfifo", [path]);
      break;
    case "mode-000 request":
      path = at("requests", `${id}.json`);
      // Created with mode 000 (a umask only removes bits); a chmod after it could find the file
      // already moved to quarantine/ by the coordinator.
      await writeFile(path, request(id, node), { mode: 0 });
      break;
    case "oversized record":
      // 12 MiB: a whole record, with a text no one would dispatch.
      path = at("requests", `${id}.json`);
      await writeFile(path, request(id, node, { text: "A".repeat(12 * 2 ** 20) }));
      break;
    case "hostile-fields request":
      path = at("requests", `${id}.json`);
      await writeFile(
        path,
        request(id, node, {
          createdAt: `2026-01-01T00:00:00Z${HOSTILE}`,
          createdBy: `evil${HOSTILE}`,
          tags: [HOSTILE],
        }),
      );
      break;
    case "future-mtime in reaping/":
      path = at("reaping", `${id}.i${n}.json`);
      await writeFile(path, request(id, node));
      await utimes(path, FUTURE, FUTURE);
      break;
    case "future-mtime in index/":
      path = at("index", `${id}.json`);
      await writeFile(path, request(id, node));
      await utimes(path, FUTURE, FUTURE);
      break;
  }
  // lchown: a chown would follow the link and hand the decoy to the owner.
  if (owner) await lchown(path, owner.uid, owner.gid).catch(() => {});
  return relative(blackboard, path);
}

/** What became of a plant: still where it was (and what it is), in quarantine, or gone. */
export async function fateOf(blackboard: string, p: Plant): Promise<string> {
  const where = join(blackboard, p.path);
  const base = p.path.split("/").at(-1)!;
  const what = async (path: string) => {
    const st = await lstat(path);
    return st.isSymbolicLink() ? "symlink" : st.isFIFO() ? "fifo" : st.isDirectory() ? "directory" : "file";
  };
  try {
    return `left in place (${await what(where)})`;
  } catch {
    // moved or deleted
  }
  const quarantine = await readdir(join(blackboard, "quarantine")).catch(() => [] as string[]);
  const moved = quarantine.find((q) => q.startsWith(base.replace(/\.json$/, "")) && !q.endsWith(".reason"));
  if (moved)
    return `moved to quarantine (${await what(join(blackboard, "quarantine", moved)).catch(() => "?")})`;
  return "gone";
}

/** Files in quarantine/ that carry the decoy's contents: its files were moved in, or a reason echoes them. */
export async function leakedReasons(blackboard: string, secrets: string[]): Promise<string[]> {
  const leaks: string[] = [];
  for (const name of await readdir(join(blackboard, "quarantine")).catch(() => [] as string[])) {
    const st = await lstat(join(blackboard, "quarantine", name));
    if (!st.isFile() || st.size > 1_000_000) continue;
    const body = await readFile(join(blackboard, "quarantine", name), "utf8");
    if (secrets.some((s) => body.includes(s))) leaks.push(`quarantine/${name}`);
  }
  return leaks;
}
