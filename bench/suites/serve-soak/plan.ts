/** The serve soak's flags, constants and progress line. */
import { readFileSync } from "node:fs";
import { benchArgs, round } from "../../lib.js";
import type { Owner } from "./plants.js";

export const opts = benchArgs({
  minutes: { type: "string", default: "10" },
  normal: { type: "string", default: "5" },
  idle: { type: "string", default: "20" },
  huge: { type: "string", default: "10" },
  garbage: { type: "string", default: "15" },
  "max-sessions": { type: "string", default: "60" },
  settle: { type: "string", default: "180" },
  "plant-every": { type: "string", default: "3" },
  user: { type: "string", default: process.getuid?.() === 0 ? "nobody" : "none" },
  out: { type: "string" },
  keep: { type: "boolean", default: false },
});
export const DURATION_MS = Number(opts.minutes) * 60_000;
export const SETTLE_MS = Number(opts.settle) * 1000;
export const NODES = ["w1", "w2"] as const;
export const TIMING = {
  leaseMs: 8000,
  heartbeatMs: 1000,
  rescanMs: 1000,
  requestTimeoutMs: 60_000,
  maxAttempts: 5,
};
const T0 = Date.now();
export const elapsedS = () => round((Date.now() - T0) / 1000, 1);
export const say = (line: string) =>
  process.stderr.write(`[serve-soak ${elapsedS().toFixed(1).padStart(6)} s] ${line}\n`);

/** The uid/gid the clawos processes run as (--user), from /etc/passwd; undefined for "none". */
export function userIds(name: string): Owner | undefined {
  if (name === "none") return undefined;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no user ${name} in /etc/passwd (use --user none)`);
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}
