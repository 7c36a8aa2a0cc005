import { timingSafeEqual } from "node:crypto";
import type { AuthContext, Connection } from "ssh2";
import { fingerprint } from "../core/transport/known-hosts.js";
import type { AuthorizedKey } from "./authorized-keys.js";
import type { ServeLog } from "./serve-log.js";

/** Failed authentication attempts a connection gets before it is closed (as sshd's MaxAuthTries). */
const MAX_AUTH_TRIES = 10;

/** One SSH connection as the server knows it: filled in while it logs in, read by its sessions. */
export interface Caller {
  /** Session number in the log. */
  id: number;
  ip: string;
  /** `ip:port`, for the log. */
  from: string;
  /** The user name asked for, reduced to safe characters. */
  who: string;
  /** Fingerprint of the key that logged in; empty until then. */
  keyFp: string;
  /** The authorized_keys line that let it in (its options decide pty); undefined until then. */
  granted: AuthorizedKey | undefined;
  failures: number;
}

function sameKey(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * One authentication request: public keys only, a key listed in authorized_keys whose from= admits
 * the caller's address. ssh2 asks first without a signature (accepted to say "this key would do"),
 * then with one, which is what grants the login.
 */
export function authenticate(
  ctx: AuthContext,
  caller: Caller,
  client: Connection,
  authorized: AuthorizedKey[],
  log: ServeLog,
): void {
  caller.who = ctx.username.replace(/[^\w.@-]/g, "?").slice(0, 64);
  const { id, who, from } = caller;
  const reject = () => {
    ctx.reject(["publickey"]);
    if (ctx.method !== "none" && ++caller.failures >= MAX_AUTH_TRIES) client.end();
  };
  if (ctx.method !== "publickey") {
    reject();
    return;
  }
  const same = authorized.filter(
    (k) => k.key.type === ctx.key.algo && sameKey(k.key.getPublicSSH(), ctx.key.data),
  );
  if (same.length === 0) {
    log(`session ${id}: refused ${who} from ${from} (key ${fingerprint(ctx.key.data)} not authorized)`);
    reject();
    return;
  }
  const match = same.find((k) => k.permits(caller.ip));
  if (!match) {
    log(
      `session ${id}: refused ${who} from ${from} (key ${fingerprint(ctx.key.data)} is not allowed from this address by from= on line ${same.map((k) => k.line).join(", ")})`,
    );
    reject();
    return;
  }
  if (ctx.signature && ctx.blob) {
    if (!match.key.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) {
      reject();
      return;
    }
    caller.keyFp = fingerprint(ctx.key.data);
    caller.granted = match;
  }
  ctx.accept();
}
