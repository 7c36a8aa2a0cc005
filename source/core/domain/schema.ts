import { z } from "zod";
import {
  checkFederationConfig,
  checkNodeStatusRecord,
  checkTaskRequest,
  checkTaskResult,
} from "./fast-checks.js";
import { isValidNodeId, isValidTaskId } from "./ids.js";
import { lazySchema } from "./lazy-schema.js";
import { Role } from "./roles.js";
import { TIMING_FIELDS, type TimingField } from "./timing-fields.js";

export const PRIORITIES = ["P0", "P1", "P2", "P3"] as const;
export const Priority = lazySchema(() => z.enum(PRIORITIES));
export type Priority = z.infer<typeof Priority>;

export const NodeId = lazySchema(() =>
  z
    .string()
    .refine(isValidNodeId, "must be lowercase letters, digits and '-', at most 40 characters, and not 'any'"),
);
export const TaskId = lazySchema(() =>
  z
    .string()
    .refine(isValidTaskId, "must look like req_YYYYMMDD_HHMMSS_<8 hex> (letters, digits, '_' and '-' only)"),
);

export const TRANSPORTS = ["auto", "localhost", "blackboard", "ssh"] as const;
export const Transport = lazySchema(() => z.enum(TRANSPORTS));
export type Transport = z.infer<typeof Transport>;
export type Route = Exclude<Transport, "auto">;

/** Where a node's gateway token comes from. The token itself never lives in federation.json. */
export const TokenSource = lazySchema(() =>
  z.union([
    z.object({ file: z.string().min(1) }).strict(),
    z
      .object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name") })
      .strict(),
    z.object({ profile: z.literal(true) }).strict(),
    z.object({ none: z.literal(true) }).strict(),
  ]),
);
export type TokenSource = z.infer<typeof TokenSource>;

export const SshSettings = lazySchema(() =>
  z
    .object({
      target: z
        .string()
        .regex(/^[^@\s]+@[^@\s:]+(:\d{1,5})?$/, "must be user@host or user@host:port")
        .describe("user@host[:port] of the node's machine (e.g. its Tailscale name)"),
      identityFile: z
        .string()
        .optional()
        .describe("Private key to log in with (default: ~/.ssh/id_*, or ssh-agent)"),
      knownHosts: z
        .string()
        .optional()
        .describe("known_hosts to verify the host key with (default: ~/.ssh/known_hosts)"),
      remotePort: z
        .number()
        .int()
        .min(1)
        .max(65535)
        .optional()
        .describe("Gateway port on that machine (default: port)"),
      whenWorkerSilent: z
        .boolean()
        .optional()
        .describe(
          "Also use SSH for non-urgent tasks while the node's worker sends no heartbeat (default true)",
        ),
    })
    .strict(),
);
export type SshSettings = z.infer<typeof SshSettings>;

export const NodeConfig = lazySchema(() =>
  z
    .object({
      id: NodeId.describe("Node id: lowercase letters, digits and '-' (e.g. alpha, mac-mini)"),
      machine: z
        .string()
        .min(1)
        .max(100)
        .describe("The machine it runs on; nodes on this machine are reached over localhost"),
      transport: Transport.default("auto").describe("auto (from machine), localhost, blackboard or ssh"),
      host: z.string().min(1).default("127.0.0.1").describe("Gateway host as seen from its own machine"),
      /** null = planned: the node exists on paper but has no gateway yet (the seed's "port TBD"). */
      port: z
        .number()
        .int()
        .min(1)
        .max(65535)
        .nullable()
        .describe("Gateway port; null for a planned node (port TBD)"),
      profile: z
        .string()
        .nullable()
        .default(null)
        .describe("OpenClaw profile (null = the default ~/.openclaw)"),
      agent: z
        .string()
        .min(1)
        .default("main")
        .describe("OpenClaw agent id; tasks use model openclaw/<agent>"),
      tags: z
        .array(z.string().min(1))
        .default([])
        .describe("Capabilities; dispatch --tag picks among nodes that have them"),
      token: TokenSource.default({ profile: true }).describe(
        "Where the gateway token comes from: {file}, {env}, {profile: true} (gateway.auth.token of the profile) or {none: true}",
      ),
      ssh: SshSettings.optional().describe(
        "SSH route for urgent (P0) tasks and silent workers: {target, identityFile?, knownHosts?, remotePort?, whenWorkerSilent?}",
      ),
      notes: z.string().max(500).optional().describe("Free text shown in the tables"),
    })
    .strict(),
);
export type NodeConfig = z.infer<typeof NodeConfig>;
export type NodeConfigInput = z.input<typeof NodeConfig>;

export const BlackboardConfig = lazySchema(() =>
  z.discriminatedUnion("driver", [
    z
      .object({
        driver: z.literal("directory"),
        path: z.string().optional(),
        /** The machine whose worker reaps leases and re-routes (the hub holding the folder). */
        coordinator: z.string().optional(),
        /** Finished tasks move to archive/<day>/ this many days after they finished (default 1). */
        archiveAfterDays: z.number().positive().max(3650).optional(),
      })
      .strict(),
    z
      .object({
        driver: z.literal("nats"),
        servers: z.array(z.string()).min(1),
        /** JetStream domain of the hub, for machines whose local server is a leaf node of it. */
        domain: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,64}$/, "must be a JetStream domain name")
          .optional(),
        /** Finished tasks move to the archive bucket this many days after they finished (default 7). */
        archiveAfterDays: z.number().positive().max(3650).optional(),
      })
      .strict(),
  ]),
);
export type BlackboardConfig = z.infer<typeof BlackboardConfig>;

/** One timing field's schema: an integer within its bounds, its default when absent. */
function timingField(field: TimingField) {
  const bounded = z.number().int().min(field.min);
  return (field.max === undefined ? bounded : bounded.max(field.max))
    .default(field.default)
    .describe(field.text);
}

export const TimingConfig = lazySchema(() => {
  const shape = Object.fromEntries(
    Object.entries(TIMING_FIELDS).map(([key, field]) => [key, timingField(field)]),
  );
  return z.object(shape as { [K in keyof typeof TIMING_FIELDS]: ReturnType<typeof timingField> }).strict();
});
export type TimingConfig = z.infer<typeof TimingConfig>;

export const WorkerConfig = lazySchema(() =>
  z
    .object({
      autoStart: z
        .boolean()
        .default(true)
        .describe(
          "Commands that queue work (dispatch, tasks retry, the control center, init) start this machine's worker in the background when none serves it",
        ),
    })
    .strict(),
);
export type WorkerConfig = z.infer<typeof WorkerConfig>;

export const AlertsConfig = lazySchema(() =>
  z
    .object({
      command: z
        .array(z.string().min(1))
        .min(1)
        .describe(
          'The program and its arguments (no shell), e.g. ["notify-send", "clawos"]; the event as JSON on its stdin',
        ),
      kinds: z
        .array(z.enum(["node-down", "node-up", "task-failed", "budget-reached"]))
        .optional()
        .describe("Only these kinds of event (default: all)"),
      timeoutMs: z
        .number()
        .int()
        .min(100)
        .max(600_000)
        .default(10_000)
        .describe("The command is killed after this long"),
      debounceMs: z
        .number()
        .int()
        .min(0)
        .default(300_000)
        .describe("At most one alert per node and kind (down and up together) in this window"),
    })
    .strict(),
);
export type AlertsConfig = z.infer<typeof AlertsConfig>;
/** What a node's or a model's tokens cost, per million. */
export const Price = lazySchema(() =>
  z
    .object({
      prompt: z.number().min(0).describe("Price of 1M prompt tokens"),
      completion: z.number().min(0).describe("Price of 1M completion tokens"),
      currency: z.string().min(1).max(10).default("USD").describe("Currency of the prices"),
    })
    .strict(),
);
export type Price = z.infer<typeof Price>;

/** A daily cap (the machine's local day): a task that would start over it waits. */
export const Budget = lazySchema(() =>
  z
    .object({
      tokens: z.number().int().positive().optional().describe("Prompt + completion tokens per day"),
      money: z
        .number()
        .positive()
        .optional()
        .describe("Money per day; counts only tokens that have a price in prices"),
      currency: z.string().min(1).max(10).default("USD").describe("Currency of money"),
    })
    .strict()
    .refine((b) => b.tokens !== undefined || b.money !== undefined, "give tokens, money or both"),
);
export type Budget = z.infer<typeof Budget>;

export const FederationConfig = lazySchema(
  () =>
    z
      .object({
        version: z
          .union([z.literal(1), z.literal(2)])
          .default(2)
          .describe("Config format version (2; a version-1 file is upgraded on first run)"),
        /** This machine's name; nodes whose `machine` matches are reached over localhost. */
        machine: z
          .string()
          .min(1)
          .optional()
          .describe(
            "This machine's name; set here, it wins. Only when absent: CLAWOS_MACHINE, then the hostname",
          ),
        blackboard: BlackboardConfig.default({ driver: "directory" }).describe(
          '{driver: "directory", path?, coordinator?, archiveAfterDays? (1)} or {driver: "nats", servers: [...], domain?, archiveAfterDays? (7)}',
        ),
        timing: TimingConfig.default(TimingConfig.parse({})).describe(
          "Leases, heartbeats and health thresholds",
        ),
        worker: WorkerConfig.default({ autoStart: true }).describe("This machine's worker (clawos node run)"),
        nodes: z
          .array(NodeConfig)
          .optional()
          .describe(
            "Version 1 only: the nodes. On first run they move to the shared registry on the blackboard",
          ),
        tokens: z
          .record(NodeId, TokenSource)
          .default({})
          .describe(
            "Where each node's gateway token comes from, by node id: {file}, {env}, {profile: true} (the default) or {none: true}. Never on the blackboard",
          ),
        ssh: z
          .record(NodeId, SshSettings.pick({ identityFile: true, knownHosts: true }))
          .default({})
          .describe(
            "Local SSH settings per node id: {identityFile?, knownHosts?} (the rest is in the registry)",
          ),
        keys: z
          .record(z.string(), z.union([z.string(), z.array(z.string())]))
          .default({})
          .describe('Control-center key rebinding: action → key(s), e.g. {"quit": "Q"}'),
        alerts: AlertsConfig.optional().describe(
          "A command run for each fleet event (node down or back, task failed for good, budget reached), by the coordinator's worker",
        ),
        prices: z
          .record(z.string().min(1), Price)
          .optional()
          .describe(
            'Price per 1M tokens, by node id or by model (the node wins): {"alpha": {"prompt": 3, "completion": 15, "currency": "USD"}}',
          ),
        budgets: z
          .record(NodeId, Budget)
          .optional()
          .describe(
            'Daily cap per node id, in tokens and/or money: {"alpha": {"tokens": 200000}} or {"alpha": {"money": 5}}',
          ),
        budget: Budget.optional().describe(
          "Daily cap for the whole federation (every node together): {tokens?, money?, currency?}",
        ),
        serveRoles: z
          .record(z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}$/), Role)
          .default({})
          .describe(
            'clawos serve: roles by SSH key fingerprint, e.g. {"SHA256:…": "operator"}; a clawos-role= on the key\'s line wins',
          ),
      })
      .strict(),
  checkFederationConfig,
);
export type FederationConfig = z.infer<typeof FederationConfig>;

// ── Blackboard records ────────────────────────────────────────────────────────

export const MAX_TASK_TEXT = 100_000;
export const MAX_RECORD_BYTES = 1_048_576;

export const RouteDecision = lazySchema(() =>
  z.object({
    node: NodeId,
    transport: z.enum(["localhost", "blackboard", "ssh"]),
    reason: z.string().max(500),
    decidedAt: z.string(),
  }),
);
export type RouteDecision = z.infer<typeof RouteDecision>;

export const TaskEvent = lazySchema(() =>
  z.object({ at: z.string(), event: z.string().max(40), detail: z.string().max(500) }),
);
export type TaskEvent = z.infer<typeof TaskEvent>;

export const TaskRequest = lazySchema(
  () =>
    z.object({
      schema: z.literal("clawos.task/1"),
      id: TaskId,
      /** What the user asked for: a node id or "any". */
      target: z.union([NodeId, z.literal("any")]),
      priority: Priority,
      text: z.string().min(1).max(MAX_TASK_TEXT),
      tags: z.array(z.string()).default([]),
      createdAt: z.string(),
      createdBy: z.string().max(100),
      attempt: z.number().int().min(1),
      maxAttempts: z.number().int().min(1).max(20),
      route: RouteDecision,
      history: z.array(TaskEvent).max(200).default([]),
    }),
  checkTaskRequest,
);
export type TaskRequest = z.infer<typeof TaskRequest>;

export const TASK_STATES = ["pending", "claimed", "running", "completed", "failed", "cancelled"] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const FINAL_STATES: readonly TaskState[] = ["completed", "failed", "cancelled"];
/** A task still at work: waiting, claimed or running (every state FINAL_STATES leaves). */
export const ACTIVE_STATES: readonly TaskState[] = ["pending", "claimed", "running"];

export const TaskError = lazySchema(() =>
  z.object({
    kind: z.string().max(60),
    message: z.string().max(2000),
    hint: z.string().max(2000).optional(),
  }),
);
export type TaskError = z.infer<typeof TaskError>;

export const TokenUsage = lazySchema(() =>
  z.object({
    prompt: z.number().int().min(0),
    completion: z.number().int().min(0),
  }),
);
export type TokenUsage = z.infer<typeof TokenUsage>;

/** Which attempt of which task, on which node: the key of results and progress. */
const attemptOf = () => ({ id: TaskId, attempt: z.number().int().min(1), node: NodeId });

export const TaskResult = lazySchema(
  () =>
    z.object({
      schema: z.literal("clawos.result/1"),
      ...attemptOf(),
      status: z.enum(["completed", "failed", "cancelled"]),
      text: z.string().max(MAX_RECORD_BYTES).optional(),
      error: TaskError.optional(),
      startedAt: z.string().optional(),
      finishedAt: z.string(),
      durationMs: z.number().min(0).optional(),
      model: z.string().optional(),
      /** Which process claimed and ran this attempt (e.g. "the worker on macbook-air (pid 42)"). */
      by: z.string().max(120).optional(),
      /** What the turn cost, as the gateway reported it; absent from results of older versions. */
      usage: TokenUsage.optional(),
    }),
  checkTaskResult,
);
export type TaskResult = z.infer<typeof TaskResult>;

export const TaskProgress = lazySchema(() =>
  z.object({
    schema: z.literal("clawos.progress/1"),
    ...attemptOf(),
    text: z.string().max(MAX_RECORD_BYTES),
    startedAt: z.string(),
    updatedAt: z.string(),
    by: z.string().max(120).optional(),
  }),
);
export type TaskProgress = z.infer<typeof TaskProgress>;

export const NodeStatusRecord = lazySchema(
  () =>
    z.object({
      schema: z.literal("clawos.node-status/1"),
      node: NodeId,
      machine: z.string(),
      pid: z.number().int(),
      version: z.string(),
      startedAt: z.string(),
      heartbeatAt: z.string(),
      state: z.enum(["running", "stopping", "stopped"]),
      inFlight: z.array(TaskId).max(1000),
      completed: z.number().int().min(0),
      failed: z.number().int().min(0),
      lastProgressAt: z.string().optional(),
      gateway: z.object({
        reachable: z.boolean(),
        latencyMs: z.number().optional(),
        checkedAt: z.string(),
        error: z.string().max(500).optional(),
      }),
      /** The last turn's word on the node's model, as its machine saw it (turn-health.ts). */
      turn: z
        .object({
          at: z.string(),
          ok: z.boolean(),
          kind: z.string().max(60).optional(),
          error: z.string().max(500).optional(),
          hint: z.string().max(500).optional(),
        })
        .optional(),
      /** The worker's last log lines about this node, for `clawos logs` on other machines (bounded). */
      recentLog: z
        .array(z.object({ at: z.string().max(40), level: z.string().max(8), text: z.string().max(300) }))
        .max(50)
        .optional(),
      /** Tokens the node's machine recorded for it, per local day and model, for the last 7 days. */
      usage: z
        .array(
          z.object({
            day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
            model: z.string().max(200).optional(),
            prompt: z.number().int().min(0),
            completion: z.number().int().min(0),
            tasks: z.number().int().min(0),
          }),
        )
        .max(200)
        .optional(),
    }),
  checkNodeStatusRecord,
);
export type NodeStatusRecord = z.infer<typeof NodeStatusRecord>;

/** First zod issue as "field: problem" — enough for a one-line error. */
export function describeZodError(error: z.ZodError): { field: string; problem: string } {
  const issue = error.issues[0];
  if (!issue) return { field: "(root)", problem: "invalid" };
  const field = issue.path.length ? issue.path.map(String).join(".") : "(root)";
  return { field, problem: issue.message };
}
