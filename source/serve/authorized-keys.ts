import { readFile } from "node:fs/promises";
import { BlockList, isIPv4, isIPv6 } from "node:net";
import ssh2, { type ParsedKey } from "ssh2";
import { isErrnoException, UserError } from "../core/domain/errors.js";
import { ROLES, type Role } from "../core/domain/roles.js";
import { sanitizeLine } from "../core/infra/sanitize.js";
import { globToRegExp } from "../core/transport/known-hosts.js";

const { utils } = ssh2;

/** One authorized_keys line that serve accepted, with the options it enforces. */
export interface AuthorizedKey {
  key: ParsedKey;
  line: number;
  /** False for `restrict` or `no-pty` (unless a later `pty` allows it again): no terminal, so no control center. */
  pty: boolean;
  /** `from="…"`: whether a client address may use this key. */
  permits(address: string): boolean;
  /** `clawos-role="viewer|operator|admin"`; absent: federation.json's word, else the default. */
  role?: Role;
}

export interface RefusedLine {
  line: number;
  reason: string;
}

/**
 * Options that need nothing from serve: it offers no forwarding, no X11 and runs no rc file,
 * so `no-*` holds by construction and the `restrict` re-enablers grant nothing.
 */
const NOTHING_TO_DO = new Set([
  "no-agent-forwarding",
  "no-port-forwarding",
  "no-x11-forwarding",
  "no-user-rc",
  "agent-forwarding",
  "port-forwarding",
  "x11-forwarding",
  "user-rc",
]);

const KEY_TYPE = /^(?:ssh-|ecdsa-|sk-)[\w@.-]+$/;

/** Split `options key-type base64 comment` at the first whitespace outside double quotes. */
function splitOptions(text: string): { options: string; rest: string } | string {
  const first = text.split(/\s/, 1)[0] ?? "";
  if (KEY_TYPE.test(first)) return { options: "", rest: text };
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\" && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && /\s/.test(c ?? ""))
      return { options: text.slice(0, i), rest: text.slice(i).trimStart() };
  }
  return quoted ? "an option's quote is never closed" : "no key after the options";
}

function splitList(options: string): string[] {
  const items: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < options.length; i++) {
    const c = options[i];
    if (c === "\\" && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === "," && !quoted) {
      items.push(options.slice(start, i));
      start = i + 1;
    }
  }
  items.push(options.slice(start));
  return items;
}

/** IPv4 clients of a dual-stack listener arrive as ::ffff:a.b.c.d. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return (mapped?.[1] ?? address).toLowerCase();
}

function cidr(pattern: string): ((address: string) => boolean) | string {
  const [network = "", bitsText = ""] = pattern.split("/");
  const type = isIPv4(network) ? "ipv4" : isIPv6(network) ? "ipv6" : undefined;
  const bits = Number(bitsText);
  if (!type || !/^\d{1,3}$/.test(bitsText) || bits > (type === "ipv4" ? 32 : 128))
    return `from= has a malformed address/prefix "${sanitizeLine(pattern).slice(0, 60)}"`;
  const list = new BlockList();
  list.addSubnet(network, bits, type);
  return (address) => {
    const addressType = isIPv4(address) ? "ipv4" : isIPv6(address) ? "ipv6" : undefined;
    return addressType === type && list.check(address, addressType);
  };
}

/**
 * `from="pattern-list"` as sshd reads it with its default UseDNS no: patterns match the client's
 * address (`*` and `?` wildcards, `a.b.c.d/n` networks); a match of a `!pattern` denies, else any
 * match allows. Host names cannot be checked without DNS, so a list that names one is refused.
 */
function parseFrom(list: string): ((address: string) => boolean) | string {
  const tests: { negated: boolean; matches: (address: string) => boolean }[] = [];
  for (const raw of list.split(",")) {
    const negated = raw.startsWith("!");
    const pattern = negated ? raw.slice(1) : raw;
    if (!pattern) return "from= has an empty pattern";
    if (pattern.includes("/")) {
      const matcher = cidr(pattern);
      if (typeof matcher === "string") return matcher;
      tests.push({ negated, matches: matcher });
    } else if (/^[0-9a-f:.*?]+$/i.test(pattern)) {
      const re = globToRegExp(pattern);
      tests.push({ negated, matches: (address) => re.test(address) });
    } else {
      return `from= names a host ("${sanitizeLine(pattern).slice(0, 60)}"); clawos serve matches client addresses only`;
    }
  }
  return (address) => {
    const plain = plainAddress(address);
    let allowed = false;
    for (const t of tests) {
      if (!t.matches(plain)) continue;
      if (t.negated) return false;
      allowed = true;
    }
    return allowed;
  };
}

/** One non-comment line: the key it allows, or why it is refused. */
function parseLine(text: string, line: number): AuthorizedKey | RefusedLine {
  const split = splitOptions(text);
  if (typeof split === "string") return { line, reason: split };
  let pty = true;
  let permits: (address: string) => boolean = () => true;
  let role: Role | undefined;
  if (split.options) {
    for (const item of splitList(split.options)) {
      const m = /^([A-Za-z0-9-]+)(?:="((?:[^"\\]|\\.)*)")?$/s.exec(item);
      const name = m?.[1]?.toLowerCase();
      const value = m?.[2]?.replace(/\\"/g, '"');
      if (!name) return { line, reason: `an option is malformed ("${sanitizeLine(item).slice(0, 40)}")` };
      if (name === "cert-authority")
        return { line, reason: "cert-authority is not supported: clawos serve takes plain public keys only" };
      if (name === "command")
        return { line, reason: "command= is not supported: clawos serve only runs the control center" };
      if ((name === "restrict" || name === "no-pty" || name === "pty") && value === undefined)
        pty = name === "pty";
      else if (name === "from" && value !== undefined) {
        const matcher = parseFrom(value);
        if (typeof matcher === "string") return { line, reason: matcher };
        const before = permits;
        permits = (address) => before(address) && matcher(address);
      } else if (name === "clawos-role" && value !== undefined) {
        if (!(ROLES as readonly string[]).includes(value))
          return {
            line,
            reason: `clawos-role="${sanitizeLine(value).slice(0, 20)}" is not one of ${ROLES.join(", ")}`,
          };
        role = value as Role;
      } else if (!(NOTHING_TO_DO.has(name) && value === undefined))
        return {
          line,
          reason: `option "${sanitizeLine(name).slice(0, 40)}" is not understood by clawos serve`,
        };
    }
  }
  const [type = "", data = ""] = split.rest.split(/\s+/);
  const parsed = utils.parseKey(`${type} ${data}`);
  if (parsed instanceof Error) return { line, reason: "not a public key clawos serve can read" };
  return {
    key: Array.isArray(parsed) ? parsed[0] : parsed,
    line,
    pty,
    permits,
    ...(role ? { role } : {}),
  };
}

export function parseAuthorizedKeys(text: string): { keys: AuthorizedKey[]; refused: RefusedLine[] } {
  const keys: AuthorizedKey[] = [];
  const refused: RefusedLine[] = [];
  text.split("\n").forEach((raw, index) => {
    const trimmed = raw.trim();
    if (!trimmed || trimmed.startsWith("#")) return;
    const result = parseLine(trimmed, index + 1);
    if ("key" in result) keys.push(result);
    else refused.push(result);
  });
  return { keys, refused };
}

export async function loadAuthorizedKeys(
  file: string,
): Promise<{ keys: AuthorizedKey[]; refused: RefusedLine[] }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if (isErrnoException(error, "ENOENT")) {
      throw new UserError(`No authorized_keys file at ${file}: nobody could log in.`, {
        hint: "put the public keys allowed in, one per line (e.g. cat ~/.ssh/id_ed25519.pub >> that file), or pass --authorized-keys FILE",
      });
    }
    throw error;
  }
  const result = parseAuthorizedKeys(text);
  if (result.keys.length === 0) {
    const first = result.refused[0];
    throw new UserError(`${file} holds no usable public key.`, {
      ...(first ? { hint: `line ${first.line} is refused: ${first.reason}` } : {}),
    });
  }
  return result;
}
