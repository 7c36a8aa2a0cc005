import { benchArgs, round } from "../../lib.js";

/** "10m", "90s", "1500ms"; a bare number is seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`cannot read the duration "${text}" (use 10m, 90s or 1500ms)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "s"]!;
  return Math.round(Number(m[1]) * unit);
}

const opts = benchArgs({
  duration: { type: "string", default: process.env.SOAK_DURATION ?? "10m" },
  fs: { type: "string", default: process.env.SOAK_FS ?? "auto" },
  "fs-size-mb": { type: "string", default: "128" },
  seed: { type: "string", default: process.env.SOAK_SEED ?? String(Date.now() % 1_000_000) },
  dispatchers: { type: "string", default: "2" },
  settle: { type: "string", default: "5m" },
  "chunk-delay-ms": { type: "string", default: "150" },
  "disk-full-hold": { type: "string", default: "20s" },
  out: { type: "string" },
  keep: { type: "boolean", default: false },
  "no-snapshot": { type: "boolean", default: false },
  /** Cap the TUI's V8 old space (MiB): tells a leak (it dies) from lazy GC (it stays small). */
  "tui-heap-mb": { type: "string" },
});

export { opts };

export const DURATION_MS = parseDuration(opts.duration);
export const SETTLE_MS = parseDuration(opts.settle);
export const HOLD_MS = parseDuration(opts["disk-full-hold"]);
export const FS_KIND = opts.fs;
export const FS_SIZE_MB = Number(opts["fs-size-mb"]);
export const SEED = Number(opts.seed);
export const DISPATCHERS = Number(opts.dispatchers);
export const CHUNK_DELAY_MS = Number(opts["chunk-delay-ms"]);
if (!["auto", "ext4", "tmpfs", "none"].includes(FS_KIND)) throw new Error(`--fs ${FS_KIND}?`);

/** How often each kind of chaos strikes (uniform in [min, max] ms). */
export const CHAOS = {
  workerKillEvery: [15_000, 35_000],
  /** A killed worker comes back after this long. */
  workerDownFor: [2_000, 8_000],
  /** Share of kills that hit the hub coordinator instead of a node's worker. */
  coordinatorShare: 0.2,
  gatewayRestartEvery: [25_000, 50_000],
  gatewayDownFor: [1_000, 5_000],
  malformedEvery: [10_000, 25_000],
  /** First disk-full episode, then one every diskFullEvery. */
  diskFullFirst: Math.min(60_000, Math.round(DURATION_MS * 0.3)),
  diskFullEvery: 150_000,
  dispatchPause: [200, 900],
} as const;

/** Leases and heartbeats short enough that recovery happens within the soak, long enough for a busy 2-core box. */
export const TIMING = {
  leaseMs: 4000,
  heartbeatMs: 1000,
  rescanMs: 1000,
  requestTimeoutMs: 60_000,
  maxAttempts: 5,
  staleAfterMs: 6000,
  asleepAfterMs: 60_000,
  rerouteAfterMs: 5000,
};

export const NODES = ["w1", "w2", "w3"] as const;
export const JUNK_PREFIX = "req_soakjunk";
export const expectedReply = (text: string) => `echo: ${text}`;

/** mulberry32: the chaos schedule is reproducible from --seed (process timing is not). */
function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
export const rng = makeRng(SEED);
export const between = ([lo, hi]: readonly [number, number] | readonly number[]) =>
  Math.round(lo! + rng() * (hi! - lo!));
export const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;

export const T0 = Date.now();
export const elapsedS = () => round((Date.now() - T0) / 1000, 1);
export function say(line: string): void {
  process.stderr.write(`[soak ${elapsedS().toFixed(1).padStart(6)} s] ${line}\n`);
}

export function errnoCode(error: unknown): string | undefined {
  return typeof error === "object" && error !== null && "code" in error
    ? String((error as { code: unknown }).code)
    : undefined;
}
