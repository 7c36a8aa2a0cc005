import { UserError } from "../domain/errors.js";
import type { LogEntry, LogOptions, LogView } from "../domain/federation-types.js";
import { count } from "../domain/plural.js";
import type { NodeConfig } from "../domain/schema.js";
import {
  cleanLogText,
  concernsNode,
  filterLog,
  HEARTBEAT_LOG_CHARS,
  mergeByTime,
  parseGatewayLine,
  parseWorkerLine,
} from "../infra/log-entries.js";
import { LogFileReader } from "../infra/log-reader.js";
import { gatewayLogOf } from "../infra/openclaw-logs.js";
import { displayPath } from "../infra/paths.js";
import { workerLogPath } from "../ops/worker-process.js";
import type { FederationCore } from "./federation.js";

/** How often a followed log is looked at again. */
const LOCAL_POLL_MS = 500;
const REMOTE_POLL_MS = 1000;
/** Lines already shown from heartbeats, remembered so a later heartbeat shows only what is new. */
const SEEN_LIMIT = 2000;

/**
 * `clawos logs NODE` and the control center's log view: a node's log, then (when following)
 * each new batch as it comes, until `options.signal` aborts. A node of this machine: its lines
 * in this machine's worker log and its gateway's log, merged by time. A node elsewhere: the
 * lines its worker put in its last heartbeat (untrusted: cleaned again here).
 */
export async function streamNodeLog(
  core: FederationCore,
  nodeId: string,
  options: LogOptions,
  onLines: (view: LogView) => void,
): Promise<void> {
  const node = core.node(nodeId);
  const source = node.machine === core.machine ? await localSource(core, node) : remoteSource(core, node);
  let initial = true;
  for (;;) {
    const { origin, entries } = await source();
    let shown = filterLog(entries, options);
    if (initial && options.tail !== undefined) shown = shown.slice(-options.tail);
    if (initial || shown.length) onLines({ node: node.id, origin, entries: shown, initial });
    initial = false;
    if (!options.follow || options.signal?.aborted) return;
    const stopped = await sleep(
      node.machine === core.machine ? LOCAL_POLL_MS : REMOTE_POLL_MS,
      options.signal,
    );
    if (stopped) return;
  }
}

type Source = () => Promise<{ origin: string; entries: LogEntry[] }>;

async function localSource(core: FederationCore, node: NodeConfig): Promise<Source> {
  const workerPath = workerLogPath(core.loaded.home);
  const worker = new LogFileReader(workerPath);
  const local = core.nodes.filter((n) => n.machine === core.machine).map((n) => n.id);
  let gateway: LogFileReader | undefined;
  return async () => {
    // The default gateway log is named by the day: look again each time.
    const gatewayPath = node.port !== null ? await gatewayLogOf(node.profile, core.env) : undefined;
    if (gatewayPath && gateway?.path !== gatewayPath) gateway = new LogFileReader(gatewayPath);
    const [workerLines, gatewayLines] = await Promise.all([worker.read(), gateway?.read() ?? []]);
    const ours = workerLines
      .map((l) => parseWorkerLine(l))
      .filter((e) => concernsNode(e.text, node.id, local));
    return {
      origin: gatewayPath
        ? `worker log ${displayPath(workerPath, core.env)} and gateway log ${displayPath(gatewayPath, core.env)}`
        : `worker log ${displayPath(workerPath, core.env)}`,
      entries: mergeByTime([ours, gatewayLines.map(parseGatewayLine)]),
    };
  };
}

function remoteSource(core: FederationCore, node: NodeConfig): Source {
  const seen = new Set<string>();
  return async () => {
    const { records } = await core.blackboard.readNodeStatuses();
    const heartbeat = records.find((r) => r.node === node.id);
    if (!heartbeat)
      return {
        origin: `no heartbeat from ${node.machine} yet: its worker (clawos node run there) sends its log lines with it`,
        entries: [],
      };
    const lines = heartbeat.recentLog ?? [];
    const fresh: LogEntry[] = [];
    for (const line of lines) {
      const key = `${line.at}\u0000${line.text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const at = Date.parse(line.at);
      fresh.push({
        ...(Number.isNaN(at) ? {} : { at: new Date(at).toISOString() }),
        source: "heartbeat",
        level: cleanLogText(line.level, 8),
        text: cleanLogText(line.text, HEARTBEAT_LOG_CHARS),
      });
    }
    if (seen.size > SEEN_LIMIT)
      for (const key of [...seen].slice(0, seen.size - SEEN_LIMIT)) seen.delete(key);
    return {
      origin: `from the heartbeat of ${heartbeat.machine}, last ${count(lines.length, "line")}`,
      entries: fresh,
    };
  };
}

/** Waits `ms`; true when the signal aborted first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(true);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(false);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(true);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** For `clawos logs` without a node: the only node, or a clear word on which to name. */
export function defaultLogNode(core: FederationCore): string {
  const local = core.nodes.filter((n) => n.machine === core.machine);
  const only = local.length === 1 ? local[0] : core.nodes.length === 1 ? core.nodes[0] : undefined;
  if (only) return only.id;
  throw new UserError(
    core.nodes.length === 0 ? "No node is registered yet, so there is no log to show." : "Which node's log?",
    {
      code: "usage",
      hint:
        core.nodes.length === 0
          ? "register one (clawos init, or clawos nodes add ID --port N)"
          : `name one: clawos logs ${core.nodes.map((n) => n.id).join(" | ")}`,
    },
  );
}
