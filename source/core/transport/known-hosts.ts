import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isErrnoException } from "../domain/errors.js";

export interface KnownHostEntry {
  /** Plain patterns (`host`, `[host]:port`, wildcards), or one hashed `|1|salt|hash`. */
  patterns: string[];
  keyType: string;
  key: Buffer;
  revoked: boolean;
}

/** The name OpenSSH files a host under: `host` on port 22, `[host]:port` otherwise. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash("sha256").update(key).digest("base64").replace(/=+$/, "")}`;
}

/** Parse a known_hosts file; lines it does not understand (@cert-authority, junk) are skipped. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    let fields = line.split(/\s+/);
    let revoked = false;
    if (fields[0]?.startsWith("@")) {
      if (fields[0] === "@revoked") revoked = true;
      else continue; // @cert-authority: certificates are not supported here
      fields = fields.slice(1);
    }
    const [hosts, keyType, keyB64] = fields;
    if (!hosts || !keyType || !keyB64) continue;
    const key = Buffer.from(keyB64, "base64");
    if (key.length === 0) continue;
    entries.push({ patterns: hosts.split(","), keyType, key, revoked });
  }
  return entries;
}

/**
 * OpenSSH patterns (known_hosts hosts, authorized_keys from=) know only `*` and `?`;
 * everything else (brackets of [host]:port included) is literal.
 */
export function globToRegExp(pattern: string): RegExp {
  const escaped = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`, "i");
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith("|1|")) {
    const [, , salt, hash] = pattern.split("|");
    if (!salt || !hash) return false;
    const expected = Buffer.from(hash, "base64");
    const actual = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest();
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }
  return globToRegExp(pattern).test(name);
}

function entryMatches(entry: KnownHostEntry, name: string): boolean {
  let matched = false;
  for (const p of entry.patterns) {
    if (p.startsWith("!")) {
      if (patternMatches(p.slice(1), name)) return false;
    } else if (patternMatches(p, name)) matched = true;
  }
  return matched;
}

export type HostKeyVerdict =
  | { kind: "trusted" }
  | { kind: "unknown"; fingerprint: string }
  | { kind: "changed"; fingerprint: string }
  | { kind: "revoked"; fingerprint: string };

/** Compare a presented host key blob (the SSH wire format) with the known_hosts entries for the host. */
export function checkHostKey(
  entries: KnownHostEntry[],
  host: string,
  port: number,
  key: Buffer,
): HostKeyVerdict {
  const name = hostKeyName(host, port);
  const mine = entries.filter((e) => entryMatches(e, name));
  const fp = fingerprint(key);
  if (entries.some((e) => e.revoked && e.key.equals(key))) return { kind: "revoked", fingerprint: fp };
  if (mine.some((e) => !e.revoked && e.key.length === key.length && timingSafeEqual(e.key, key)))
    return { kind: "trusted" };
  return mine.some((e) => !e.revoked)
    ? { kind: "changed", fingerprint: fp }
    : { kind: "unknown", fingerprint: fp };
}

/** Key types known for a host, so the client asks the server for one it can verify. */
export function knownKeyTypes(entries: KnownHostEntry[], host: string, port: number): string[] {
  const name = hostKeyName(host, port);
  return [...new Set(entries.filter((e) => !e.revoked && entryMatches(e, name)).map((e) => e.keyType))];
}

export async function loadKnownHosts(path: string): Promise<KnownHostEntry[]> {
  try {
    return parseKnownHosts(await readFile(path, "utf8"));
  } catch (error) {
    if (isErrnoException(error, "ENOENT")) return [];
    throw error;
  }
}
