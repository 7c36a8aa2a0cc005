/**
 * Plain-code checks for the records every one-shot command reads: federation.json, the node
 * registry's records and the workers' heartbeats.
 *
 * Building these zod schemas and compiling zod's own functions took about a tenth of `clawos
 * status`'s CPU (BENCHMARKS.md, issue 18). A check here only ever *accepts*: it returns exactly
 * what the zod schema's parse returns (defaults filled in, unknown keys of a loose object
 * dropped, keys in the schema's order), or `undefined` when the input is not the common,
 * clearly valid case. Then the zod schema decides, so what is accepted and refused, and every
 * error message, stay the schema's own. `test/unit/core/domain/fast-checks.test.ts` runs one
 * table of good and bad records through both and asserts identical verdicts and outputs.
 *
 * Anything unusual (an `undefined` value, a `__proto__` key, a non-plain object, an integer
 * outside the safe range, a rarely used section) is left to zod: these checks are conservative.
 */
import { isValidNodeId, isValidTaskId } from "./ids.js";
import { TIMING_FIELDS, type TimingField } from "./timing-fields.js";

type Obj = Record<string, unknown>;
/** What a check answers: the parsed value, or NO (let the zod schema decide). */
const NO = undefined;

function plain(value: unknown): value is Obj {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key in value) if (key === "__proto__" || (value as Obj)[key] === undefined) return false;
  return true;
}
/** Only these keys (a strict object's rule). */
const only = (value: Obj, keys: readonly string[]) => Object.keys(value).every((k) => keys.includes(k));
const str = (v: unknown, min = 0, max = Infinity): v is string =>
  typeof v === "string" && v.length >= min && v.length <= max;
const int = (v: unknown, min = -Number.MAX_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): v is number =>
  Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
const num = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
const bool = (v: unknown): v is boolean => typeof v === "boolean";
const nodeId = (v: unknown): v is string => typeof v === "string" && isValidNodeId(v);

/** Copies the present keys of `value`, in `keys`' order, after `ok` holds for each of them. */
function pick(value: Obj, checks: Record<string, (v: unknown) => boolean>): Obj | undefined {
  const out: Obj = {};
  for (const [key, ok] of Object.entries(checks)) {
    if (!(key in value)) continue;
    if (!ok(value[key])) return NO;
    out[key] = value[key];
  }
  return out;
}
/** An array whose every item passes `item`, copied (items replaced by what `item` returns). */
function list(value: unknown, max: number, item: (v: unknown) => unknown): unknown[] | undefined {
  if (!Array.isArray(value) || value.length > max) return NO;
  const out: unknown[] = [];
  for (const v of value) {
    const checked = item(v);
    if (checked === NO) return NO;
    out.push(checked);
  }
  return out;
}
const strings =
  (max: number, min = 0, maxLength = Infinity) =>
  (v: unknown) =>
    list(v, max, (s) => (str(s, min, maxLength) ? s : NO));

// ── federation.json ─────────────────────────────────────────────────────────

function timing(value: unknown): Obj | undefined {
  if (value === NO) value = {};
  if (!plain(value) || !only(value, Object.keys(TIMING_FIELDS))) return NO;
  const out: Obj = {};
  for (const [key, field] of Object.entries(TIMING_FIELDS) as [string, TimingField][]) {
    const v = key in value ? value[key] : field.default;
    if (!int(v, field.min, field.max)) return NO;
    out[key] = v;
  }
  return out;
}

const archiveDays = (v: unknown) => num(v) && v > 0 && v <= 3650;
function blackboard(value: unknown): Obj | undefined {
  if (value === NO) return { driver: "directory" };
  if (!plain(value)) return NO;
  if (value.driver === "directory" && only(value, ["driver", "path", "coordinator", "archiveAfterDays"]))
    return pick(value, {
      driver: () => true,
      path: (v) => str(v),
      coordinator: (v) => str(v),
      archiveAfterDays: archiveDays,
    });
  if (value.driver === "nats" && only(value, ["driver", "servers", "domain", "archiveAfterDays"])) {
    const servers = strings(Infinity)(value.servers);
    if (!servers?.length) return NO;
    const rest = pick(value, {
      domain: (v) => typeof v === "string" && /^[A-Za-z0-9_-]{1,64}$/.test(v),
      archiveAfterDays: archiveDays,
    });
    return rest && { driver: "nats", servers, ...rest };
  }
  return NO;
}

function tokenSource(value: unknown): Obj | undefined {
  if (!plain(value)) return NO;
  const [key, ...more] = Object.keys(value);
  if (more.length > 0 || key === undefined) return NO;
  const v = value[key];
  const ok =
    (key === "file" && str(v, 1)) ||
    (key === "env" && typeof v === "string" && /^[A-Za-z_][A-Za-z0-9_]*$/.test(v)) ||
    ((key === "profile" || key === "none") && v === true);
  return ok ? { [key]: v } : NO;
}

/** A record (object map): every key passes `key`, every value `item`; keys in the input's order. */
function record(value: unknown, key: (k: string) => boolean, item: (v: unknown) => unknown): Obj | undefined {
  if (value === NO) return {};
  if (!plain(value)) return NO;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    const checked = key(k) ? item(v) : NO;
    if (checked === NO) return NO;
    out[k] = checked;
  }
  return out;
}

const CONFIG_KEYS = [
  "version",
  "machine",
  "blackboard",
  "timing",
  "worker",
  "nodes",
  "tokens",
  "ssh",
  "keys",
  "alerts",
  "prices",
  "budgets",
  "budget",
  "serveRoles",
];
/** Sections seldom set (alerts, prices, budgets, a version-1 node list) are left to zod. */
const RARE_CONFIG_KEYS = ["nodes", "alerts", "prices", "budgets", "budget"];
const ROLES = ["viewer", "operator", "admin"];

/** `FederationConfig.parse(value)` for a common federation.json, else undefined. */
export function checkFederationConfig(value: unknown): Obj | undefined {
  if (!plain(value) || !only(value, CONFIG_KEYS) || RARE_CONFIG_KEYS.some((k) => k in value)) return NO;
  const version = "version" in value ? value.version : 2;
  if (version !== 1 && version !== 2) return NO;
  if ("machine" in value && !str(value.machine, 1)) return NO;
  const worker = "worker" in value ? value.worker : { autoStart: true };
  if (!plain(worker) || !only(worker, ["autoStart"])) return NO;
  const autoStart = "autoStart" in worker ? worker.autoStart : true;
  if (!bool(autoStart)) return NO;
  const parts = {
    blackboard: blackboard(value.blackboard),
    timing: timing(value.timing),
    worker: { autoStart },
    tokens: record(value.tokens, nodeId, tokenSource),
    ssh: record(value.ssh, nodeId, (v) =>
      plain(v) && only(v, ["identityFile", "knownHosts"])
        ? pick(v, { identityFile: (s) => str(s), knownHosts: (s) => str(s) })
        : NO,
    ),
    keys: record(
      value.keys,
      () => true,
      (v) => (str(v) ? v : strings(Infinity)(v)),
    ),
    serveRoles: record(
      value.serveRoles,
      (k) => /^SHA256:[A-Za-z0-9+/]{43}$/.test(k),
      (v) => (typeof v === "string" && ROLES.includes(v) ? v : NO),
    ),
  };
  if (Object.values(parts).some((part) => part === NO)) return NO;
  const { blackboard: bb, timing: t, worker: w, tokens, ssh, keys, serveRoles } = parts;
  return {
    version,
    ...("machine" in value ? { machine: value.machine } : {}),
    blackboard: bb,
    timing: t,
    worker: w,
    tokens,
    ssh,
    keys,
    serveRoles,
  };
}

// ── the node registry ───────────────────────────────────────────────────────

const TRANSPORTS = ["auto", "localhost", "blackboard", "ssh"];
const port = (v: unknown) => int(v, 1, 65535);

function registrySsh(value: unknown): Obj | undefined {
  if (!plain(value) || !only(value, ["target", "remotePort", "whenWorkerSilent"])) return NO;
  if (!(typeof value.target === "string" && /^[^@\s]+@[^@\s:]+(:\d{1,5})?$/.test(value.target))) return NO;
  return pick(value, { target: () => true, remotePort: port, whenWorkerSilent: bool });
}

const REGISTRY_NODE_KEYS = [
  "id",
  "machine",
  "transport",
  "host",
  "port",
  "profile",
  "agent",
  "tags",
  "ssh",
  "notes",
];
function registryNode(value: unknown): Obj | undefined {
  if (!plain(value) || !only(value, REGISTRY_NODE_KEYS)) return NO;
  const v = {
    transport: "auto",
    host: "127.0.0.1",
    profile: null,
    agent: "main",
    tags: [],
    ...value,
  } as Obj;
  if (!nodeId(v.id) || !str(v.machine, 1, 100) || !TRANSPORTS.includes(v.transport as string)) return NO;
  if (!str(v.host, 1, 255) || !(v.port === null || port(v.port))) return NO;
  if (!(v.profile === null || str(v.profile, 0, 100)) || !str(v.agent, 1, 100)) return NO;
  const tags = strings(50, 1, 60)(v.tags);
  const ssh = v.ssh === undefined ? undefined : registrySsh(v.ssh);
  if (!tags || (v.ssh !== undefined && !ssh) || ("notes" in v && !str(v.notes, 0, 500))) return NO;
  const { id, machine, transport, host, port: p, profile, agent } = v;
  return {
    id,
    machine,
    transport,
    host,
    port: p,
    profile,
    agent,
    tags,
    ...(ssh ? { ssh } : {}),
    ...("notes" in v ? { notes: v.notes } : {}),
  };
}

const DEFINITION_KEYS = ["schema", "id", "owner", "generation", "updatedAt", "state", "node", "cordon"];
function cordon(value: unknown): Obj | undefined {
  if (!plain(value) || !only(value, ["state", "at", "by"])) return NO;
  const { state, at, by } = value;
  return (state === "cordoned" || state === "draining") && str(at, 0, 40) && str(by, 0, 100)
    ? { state, at, by }
    : NO;
}

/** `NodeDefinition.parse(value)` for a registry record, else undefined. */
export function checkNodeDefinition(value: unknown): Obj | undefined {
  if (!plain(value) || !only(value, DEFINITION_KEYS) || value.schema !== "clawos.node/1") return NO;
  const { id, owner, generation, updatedAt, state } = value;
  if (!nodeId(id) || !str(owner, 1, 100) || !int(generation, 1, 1_000_000_000) || !str(updatedAt, 0, 40))
    return NO;
  if (state !== "active" && state !== "removed") return NO;
  const node = "node" in value ? registryNode(value.node) : undefined;
  const cordoned = "cordon" in value ? cordon(value.cordon) : undefined;
  if (("node" in value && !node) || ("cordon" in value && !cordoned)) return NO;
  if ((state === "active" && !node) || (node && node.id !== id)) return NO;
  return {
    schema: value.schema,
    id,
    owner,
    generation,
    updatedAt,
    state,
    ...(node ? { node } : {}),
    ...(cordoned ? { cordon: cordoned } : {}),
  };
}

// ── heartbeats ──────────────────────────────────────────────────────────────

/**
 * Copies only `checks`' keys (a loose object drops the others), each checked; optional ones may
 * be absent, defaulted ones get a fresh empty list.
 */
function loose(
  value: unknown,
  checks: Record<string, (v: unknown) => unknown>,
  optional: string[],
  defaultEmpty: string[] = [],
) {
  if (!plain(value)) return NO;
  const out: Obj = {};
  for (const [key, check] of Object.entries(checks)) {
    if (!(key in value)) {
      if (defaultEmpty.includes(key)) out[key] = [];
      else if (optional.includes(key)) continue;
      else return NO;
      continue;
    }
    const checked = check(value[key]);
    if (checked === NO) return NO;
    out[key] = checked;
  }
  return out;
}
const same = (ok: (v: unknown) => boolean) => (v: unknown) => (ok(v) ? v : NO);
const anyString = same((v) => str(v));
const count = same((v) => int(v, 0));

const GATEWAY = {
  reachable: same(bool),
  latencyMs: same(num),
  checkedAt: anyString,
  error: same((v) => str(v, 0, 500)),
};
const TURN = {
  at: anyString,
  ok: same(bool),
  kind: same((v) => str(v, 0, 60)),
  error: same((v) => str(v, 0, 500)),
  hint: same((v) => str(v, 0, 500)),
};
const LOG_LINE = {
  at: same((v) => str(v, 0, 40)),
  level: same((v) => str(v, 0, 8)),
  text: same((v) => str(v, 0, 300)),
};
const USAGE_DAY = {
  day: same((v) => typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v)),
  model: same((v) => str(v, 0, 200)),
  prompt: count,
  completion: count,
  tasks: count,
};
const STATUS = {
  schema: same((v) => v === "clawos.node-status/1"),
  node: same(nodeId),
  machine: anyString,
  pid: same((v) => int(v)),
  version: anyString,
  startedAt: anyString,
  heartbeatAt: anyString,
  state: same((v) => v === "running" || v === "stopping" || v === "stopped"),
  inFlight: (v: unknown) =>
    list(
      v,
      1000,
      same((id) => typeof id === "string" && isValidTaskId(id)),
    ),
  completed: count,
  failed: count,
  lastProgressAt: anyString,
  gateway: (v: unknown) => loose(v, GATEWAY, ["latencyMs", "error"]),
  turn: (v: unknown) => loose(v, TURN, ["kind", "error", "hint"]),
  recentLog: (v: unknown) => list(v, 50, (line) => loose(line, LOG_LINE, [])),
  usage: (v: unknown) => list(v, 200, (day) => loose(day, USAGE_DAY, ["model"])),
};

/** `NodeStatusRecord.parse(value)` for a worker's heartbeat, else undefined. */
export function checkNodeStatusRecord(value: unknown): Obj | undefined {
  return loose(value, STATUS, ["lastProgressAt", "turn", "recentLog", "usage"]);
}

// ── tasks and their results (every listing of the board) ────────────────────

const taskId = same((v) => typeof v === "string" && isValidTaskId(v));
const REQUEST = {
  schema: same((v) => v === "clawos.task/1"),
  id: taskId,
  target: same((v) => v === "any" || nodeId(v)),
  priority: same((v) => v === "P0" || v === "P1" || v === "P2" || v === "P3"),
  text: same((v) => str(v, 1, 100_000)),
  tags: strings(Infinity),
  createdAt: anyString,
  createdBy: same((v) => str(v, 0, 100)),
  attempt: same((v) => int(v, 1)),
  maxAttempts: same((v) => int(v, 1, 20)),
  route: (v: unknown) =>
    loose(
      v,
      {
        node: same(nodeId),
        transport: same((t) => t === "localhost" || t === "blackboard" || t === "ssh"),
        reason: same((r) => str(r, 0, 500)),
        decidedAt: anyString,
      },
      [],
    ),
  history: (v: unknown) =>
    list(v, 200, (event) =>
      loose(
        event,
        { at: anyString, event: same((e) => str(e, 0, 40)), detail: same((d) => str(d, 0, 500)) },
        [],
      ),
    ),
};

/** `TaskRequest.parse(value)` for a task file, else undefined. */
export function checkTaskRequest(value: unknown): Obj | undefined {
  return loose(value, REQUEST, [], ["tags", "history"]);
}

const RESULT = {
  schema: same((v) => v === "clawos.result/1"),
  id: taskId,
  attempt: same((v) => int(v, 1)),
  node: same(nodeId),
  status: same((v) => v === "completed" || v === "failed" || v === "cancelled"),
  text: same((v) => str(v, 0, 1_048_576)),
  error: (v: unknown) =>
    loose(
      v,
      {
        kind: same((k) => str(k, 0, 60)),
        message: same((m) => str(m, 0, 2000)),
        hint: same((h) => str(h, 0, 2000)),
      },
      ["hint"],
    ),
  startedAt: anyString,
  finishedAt: anyString,
  durationMs: same((v) => num(v) && v >= 0),
  model: anyString,
  by: same((v) => str(v, 0, 120)),
  usage: (v: unknown) => loose(v, { prompt: count, completion: count }, []),
};

/** `TaskResult.parse(value)` for a result file, else undefined. */
export function checkTaskResult(value: unknown): Obj | undefined {
  return loose(value, RESULT, ["text", "error", "startedAt", "durationMs", "model", "by", "usage"]);
}

// ── a gateway's /v1/models (every probe) ────────────────────────────────────

/** `ModelList.parse(value)` (gateway-client.ts) for a model list, else undefined. */
export function checkModelList(value: unknown): Obj | undefined {
  if (!plain(value)) return NO;
  const data = list(value.data, Infinity, (model) => (plain(model) && str(model.id) ? { id: model.id } : NO));
  return data && { data };
}

// ── a chat turn's streamed events (every dispatch) ──────────────────────────

const nullOr =
  <T>(check: (v: unknown) => T | undefined) =>
  (v: unknown) =>
    v === null ? null : check(v);
const CHUNK = {
  model: same((v) => str(v)),
  // Only a well-formed usage: zod's `.catch` turns a malformed one into undefined itself.
  usage: nullOr((v) => loose(v, { prompt_tokens: count, completion_tokens: count }, [])),
  choices: (v: unknown) =>
    list(v, Infinity, (choice) =>
      loose(choice, { delta: nullOr((d) => loose(d, { content: nullOr(anyString) }, ["content"])) }, [
        "delta",
      ]),
    ),
  error: (v: unknown) => loose(v, { message: anyString, type: anyString }, ["type"]),
};

/** `ChatChunk.parse(value)` (gateway-client.ts) for an SSE event of a chat turn, else undefined. */
export function checkChatChunk(value: unknown): Obj | undefined {
  return loose(value, CHUNK, ["model", "usage", "choices", "error"]);
}

// ── the audit log (every command that changes something appends an entry) ───

const ACTOR = {
  kind: same((v) => v === "local" || v === "ssh"),
  user: same((v) => str(v, 0, 64)),
  key: same((v) => str(v, 0, 100)),
  from: same((v) => str(v, 0, 100)),
  role: same((v) => str(v, 0, 20)),
};
const AUDIT = {
  at: same((v) => str(v, 0, 40)),
  actor: (v: unknown) => loose(v, ACTOR, ["key", "from", "role"]),
  action: same((v) => str(v, 0, 40)),
  target: same((v) => str(v, 0, 200)),
  result: same((v) => v === "ok" || v === "refused" || v === "failed"),
  reason: same((v) => str(v, 0, 200)),
};

export function checkAuditEntry(value: unknown): Obj | undefined {
  return loose(value, AUDIT, ["reason"]);
}
