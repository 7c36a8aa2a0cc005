/**
 * federation.json's `timing` section, field by field: bounds, default and meaning. Both readers
 * of the section are built from this one table, so they cannot drift apart: the zod schema
 * (`TimingConfig` in schema.ts) and its plain-code check (fast-checks.ts).
 */
export interface TimingField {
  min: number;
  max?: number;
  default: number;
  /** The field's meaning, as the README's configuration reference gives it. */
  text: string;
}

export const TIMING_FIELDS = {
  leaseMs: {
    min: 1000,
    default: 30_000,
    text: "A claimed task whose lease is not renewed this long is handed back",
  },
  heartbeatMs: { min: 200, default: 5_000, text: "How often a worker writes its node status" },
  rescanMs: { min: 100, default: 5_000, text: "Slow rescan behind file watching (events can be dropped)" },
  requestTimeoutMs: {
    min: 1000,
    default: 600_000,
    text: "Longest a single agent turn may take, from the request to the reply's last byte",
  },
  streamIdleMs: {
    min: 1000,
    default: 300_000,
    text: "Longest silence inside a streamed reply before the turn is given up (OpenClaw sends nothing while its agent thinks or runs a tool)",
  },
  maxAttempts: { min: 1, max: 20, default: 3, text: "Attempts before a task fails for good" },
  /** A node whose heartbeat is older than this is stale; older than `asleepAfterMs`, asleep. */
  staleAfterMs: { min: 1000, default: 30_000, text: "Heartbeat age after which a node is stale" },
  asleepAfterMs: { min: 1000, default: 600_000, text: "Heartbeat age after which a node is asleep" },
  /** `any` tasks waiting on a node that stays down this long are moved by the coordinator. */
  rerouteAfterMs: {
    min: 1000,
    default: 60_000,
    text: "An any-task waiting on a down node this long is moved",
  },
} as const satisfies Record<string, TimingField>;
