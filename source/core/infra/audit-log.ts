import { constants } from "node:fs";
import { mkdir, open, rename, stat } from "node:fs/promises";
import { userInfo } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { isErrnoException } from "../domain/errors.js";
import { checkAuditEntry } from "../domain/fast-checks.js";
import { lazySchema } from "../domain/lazy-schema.js";
import { NotARegularFile, readRegularFile } from "./regular-file.js";
import { sanitizeLine } from "./sanitize.js";

/**
 * `<home>/audit.log`: one JSON line per action taken through the CLI, the control center or SSH.
 * Append-only (O_APPEND, never rewritten), 0600, never through a symlink; at ROTATE_BYTES it
 * moves to audit.log.1 (the one older generation kept), so it stays bounded. It holds who, what,
 * on which target and how it went: never a token, a key, or a task's text.
 */

export const AUDIT_FILE = "audit.log";
const ROTATE_BYTES = 2 * 1024 * 1024;
const MAX_FIELD = 200;

// Built on first use: appending an entry (every command that changes something) checks it with
// checkAuditEntry, and zod builds these only for an entry that check leaves to it, or to read the log.
export const AuditActor = lazySchema(() =>
  z.object({
    kind: z.enum(["local", "ssh"]),
    user: z.string().max(64),
    /** SHA256 fingerprint of the SSH key that logged in. */
    key: z.string().max(100).optional(),
    /** The SSH client's address. */
    from: z.string().max(100).optional(),
    role: z.string().max(20).optional(),
  }),
);
export type AuditActor = z.infer<typeof AuditActor>;

export const AuditEntry = lazySchema(
  () =>
    z.object({
      at: z.string().max(40),
      actor: AuditActor,
      action: z.string().max(40),
      target: z.string().max(MAX_FIELD),
      result: z.enum(["ok", "refused", "failed"]),
      /** Why it was refused or failed, one short line. */
      reason: z.string().max(MAX_FIELD).optional(),
    }),
  checkAuditEntry,
);
export type AuditEntry = z.infer<typeof AuditEntry>;

export function auditPath(home: string): string {
  return join(home, AUDIT_FILE);
}

/** The user running this process, as the audit log names a local actor. */
export function localActor(env: NodeJS.ProcessEnv = process.env): AuditActor {
  let user = env.USER ?? env.LOGNAME ?? "";
  try {
    user = userInfo().username || user;
  } catch {
    // no passwd entry (a container's uid): the environment's word, else unknown
  }
  return { kind: "local", user: sanitizeLine(user || "unknown").slice(0, 64) };
}

function clip(text: string): string {
  return sanitizeLine(text).slice(0, MAX_FIELD);
}

/** The first line of an error's message, as a failed entry's reason. */
export function auditReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return clip(message.split("\n", 1)[0] ?? "");
}

/**
 * Append one entry. A failure to write is returned, not thrown: the action already happened
 * (or was refused) and saying so on stderr beats failing the command after the fact.
 */
export async function appendAudit(
  home: string,
  entry: Omit<AuditEntry, "at"> & { at?: string },
): Promise<string | undefined> {
  const line = `${JSON.stringify(
    AuditEntry.parse({
      ...entry,
      at: entry.at ?? new Date().toISOString(),
      target: clip(entry.target),
      ...(entry.reason !== undefined ? { reason: clip(entry.reason) } : {}),
    }),
  )}\n`;
  const path = auditPath(home);
  try {
    await mkdir(home, { recursive: true, mode: 0o700 });
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    if (size + line.length > ROTATE_BYTES) await rename(path, `${path}.1`);
    const handle = await open(
      path,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      if (!(await handle.stat()).isFile()) return `${path} is not a regular file; audit entry not written`;
      await handle.chmod(0o600);
      await handle.write(line);
    } finally {
      await handle.close();
    }
    return undefined;
  } catch (error) {
    return `audit entry not written to ${path} (${auditReason(error)})`;
  }
}

async function readLines(path: string): Promise<string[]> {
  try {
    return (await readRegularFile(path, ROTATE_BYTES * 2)).split("\n");
  } catch (error) {
    if (isErrnoException(error, "ENOENT")) return [];
    if (error instanceof NotARegularFile) return [];
    throw error;
  }
}

/** The entries, oldest first (the rotated generation, then the current file); unreadable lines are counted, not shown. */
export async function readAudit(
  home: string,
  options: { since?: Date } = {},
): Promise<{ entries: AuditEntry[]; skipped: number }> {
  const path = auditPath(home);
  const entries: AuditEntry[] = [];
  let skipped = 0;
  for (const raw of [...(await readLines(`${path}.1`)), ...(await readLines(path))]) {
    if (!raw.trim()) continue;
    let parsed: ReturnType<typeof AuditEntry.safeParse>;
    try {
      parsed = AuditEntry.safeParse(JSON.parse(raw));
    } catch {
      skipped++;
      continue;
    }
    if (!parsed.success) {
      skipped++;
      continue;
    }
    if (options.since && !(Date.parse(parsed.data.at) >= options.since.getTime())) continue;
    entries.push(parsed.data);
  }
  return { entries, skipped };
}

/** Run `body` as `action` on `target` and log how it went (ok or failed, with the first line of the error). */
export async function audited<T>(
  home: string,
  actor: AuditActor,
  action: string,
  target: string,
  body: () => Promise<T>,
  onAuditProblem: (line: string) => void = () => {},
): Promise<T> {
  try {
    const result = await body();
    const problem = await appendAudit(home, { actor, action, target, result: "ok" });
    if (problem) onAuditProblem(problem);
    return result;
  } catch (error) {
    const problem = await appendAudit(home, {
      actor,
      action,
      target,
      result: "failed",
      reason: auditReason(error),
    });
    if (problem) onAuditProblem(problem);
    throw error;
  }
}

/** The actor in one line: `alice (local)`, `alice over ssh, key SHA256:…, from 10.0.0.5, operator`. */
export function whoOf(actor: AuditActor): string {
  if (actor.kind === "local") return `${actor.user} (local)`;
  return [
    `${actor.user} over ssh`,
    actor.key ? `key ${actor.key}` : undefined,
    actor.from ? `from ${actor.from}` : undefined,
    actor.role,
  ]
    .filter(Boolean)
    .join(", ");
}
