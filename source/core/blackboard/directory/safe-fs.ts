import { constants, lstatSync, readlinkSync, type Stats } from "node:fs";
import { basename, dirname, join, relative, sep } from "node:path";
import { sanitizeLine } from "../../infra/sanitize.js";

/**
 * The directory blackboard is written by other machines: nothing in it is trusted. It is only
 * ever a tree of real directories and regular files; anything else (a symbolic link, a FIFO, a
 * socket, a device, a directory where a file should be) is reported and left alone, never
 * followed, opened, moved or deleted.
 */

/** 0 where the platform has no O_NOFOLLOW (Windows): lstat checks still apply there. */
export const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** What a non-regular entry is, for a report: never its contents; a link's target is sanitized. */
export function describeEntry(path: string, st: Stats): string {
  if (st.isSymbolicLink()) {
    let target = "?";
    try {
      target = readlinkSync(path);
    } catch {}
    const clean = sanitizeLine(target);
    return `a symbolic link (to ${clean.length > 120 ? `${clean.slice(0, 117)}...` : clean})`;
  }
  if (st.isFIFO()) return "a named pipe (FIFO)";
  if (st.isSocket()) return "a socket";
  if (st.isBlockDevice() || st.isCharacterDevice()) return "a device file";
  if (st.isDirectory()) return "a directory";
  if (st.isFile()) return "a file";
  return "not a regular file";
}

export type EntryKind = { kind: "file"; st: Stats } | { kind: "missing" } | { kind: "foreign"; what: string };

/** lstat `path`: a regular file, nothing, or something else (described). */
export function entryAt(path: string): EntryKind {
  const st = lstatOrUndefined(path);
  if (!st) return { kind: "missing" };
  if (st.isFile()) return { kind: "file", st };
  return { kind: "foreign", what: describeEntry(path, st) };
}

/** What identifies a directory: the same device, inode and birth time is the same directory. */
interface DirIdentity {
  dev: number;
  ino: number;
  birthtimeMs: number;
}

function sameDir(st: Stats, known: DirIdentity): boolean {
  return st.dev === known.dev && st.ino === known.ino && st.birthtimeMs === known.birthtimeMs;
}

/**
 * Checks paths against one root: every directory between the root and a path must be a real
 * directory (lstat, never a link), so nothing reached through the blackboard leaves it.
 * Node has no openat(); checking just before use is the closest it gets.
 *
 * A directory verified from the root down is remembered by its identity (DirIdentity). Checking
 * it again takes one lstat of the directory itself instead of one per level: that lstat follows
 * any link planted above it, so the same identity means the path still leads to the very
 * directory that was verified inside the root; anything else (a link in its place or above it, a
 * different directory, nothing) forgets it and walks from the root again.
 */
export class Confinement {
  /** Paths already reported by this process: each is reported once. */
  private readonly reported = new Set<string>();
  private notes: string[] = [];
  /** Directories verified from the root down, by path. */
  private readonly verified = new Map<string, DirIdentity>();

  constructor(readonly root: string) {}

  /** The path relative to the root, sanitized for a report. */
  rel(path: string): string {
    return sanitizeLine(relative(this.root, path) || ".");
  }

  /**
   * undefined if every directory from the root down to `dir` (itself included) is a real
   * directory or does not exist yet; else what stands in the way (reported once).
   */
  blockedDir(dir: string): string | undefined {
    // Only directories inside the root, by their normalized paths, are remembered.
    const known = this.verified.get(dir);
    if (known) {
      const st = lstatOrUndefined(dir);
      if (st?.isDirectory() && sameDir(st, known)) return undefined;
      this.verified.delete(dir);
    }
    const rel = relative(this.root, dir);
    if (rel === "") return undefined;
    if (rel.startsWith("..") || rel.startsWith(sep)) return `${sanitizeLine(dir)} is outside the blackboard`;
    return this.walk(rel);
  }

  /** Check every directory from the root down to `rel`, remembering each one that is real. */
  private walk(rel: string): string | undefined {
    let at = "";
    for (const part of rel.split(sep)) {
      // Keyed as the layout spells paths (join() normalizes a root given as "/srv/bb/").
      at = at ? `${at}${sep}${part}` : join(this.root, part);
      const st = lstatOrUndefined(at);
      if (!st) return undefined;
      if (!st.isDirectory()) {
        this.verified.delete(at);
        const what = `${describeEntry(at, st)} where a directory should be`;
        this.note(at, what);
        return `${this.rel(at)} is ${what}`;
      }
      this.verified.set(at, { dev: st.dev, ino: st.ino, birthtimeMs: st.birthtimeMs });
    }
    return undefined;
  }

  /** Every directory above `path` (not `path` itself) is a real directory inside the root. */
  within(path: string): boolean {
    const above = dirname(path);
    const leaf = basename(path);
    // A remembered directory is inside the root, and `leaf` is a plain name in it.
    if (leaf !== ".." && leaf !== "." && this.verified.has(above))
      return this.blockedDir(above) === undefined;
    const rel = relative(this.root, path);
    if (rel === "" || rel.startsWith("..") || rel.startsWith(sep)) return false;
    const parent = rel.split(sep).slice(0, -1).join(sep);
    return parent === "" || this.blockedDir(`${this.root}${sep}${parent}`) === undefined;
  }

  /**
   * `path` is a regular file inside the root (or is missing: "missing"); anything else is
   * reported once and "foreign".
   */
  fileAt(path: string): "file" | "missing" | "foreign" {
    if (!this.within(path)) return "foreign";
    const entry = entryAt(path);
    if (entry.kind === "foreign") this.note(path, `${entry.what}, not a regular file`);
    return entry.kind;
  }

  /** Report `path` once per process: "left alone: <path> is <what> …". */
  note(path: string, what: string): void {
    if (this.reported.has(path)) return;
    this.reported.add(path);
    this.notes.push(`left alone: ${this.rel(path)} is ${what} (not followed; remove it)`);
  }

  /** Reports made since the last call. */
  takeNotes(): string[] {
    const notes = this.notes;
    this.notes = [];
    return notes;
  }
}
