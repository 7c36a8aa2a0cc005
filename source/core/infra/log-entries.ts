import type { LogEntry, LogSource } from "../domain/federation-types.js";
import { sanitizeLine } from "./sanitize.js";

/** What a heartbeat carries of its worker's log: bounded so a record stays small. */
export const HEARTBEAT_LOG_LINES = 50;
export const HEARTBEAT_LOG_CHARS = 300;

/** Longest line kept from a local file: a gateway may log a whole request on one line. */
const MAX_LINE_CHARS = 2000;

const SECRET_PATTERNS: readonly RegExp[] = [
  /\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  /\b((?:gateway[_-]?)?token|api[_-]?key|secret|password|authorization)(["']?\s*[:=]\s*["']?)[^\s"',}]{4,}/gi,
  /\b(sk|xox[abp]|ghp|gho)-?[A-Za-z0-9_-]{16,}/g,
];

/**
 * A log line made safe to print: escapes and controls removed, one line, tokens and keys
 * masked (a gateway may echo a header or a config value), and bounded.
 */
export function cleanLogText(text: string, max = MAX_LINE_CHARS): string {
  let out = sanitizeLine(text);
  for (const pattern of SECRET_PATTERNS)
    out = out.replace(pattern, (match, key: string, sep?: string) =>
      typeof sep === "string" ? `${key}${sep}***` : `${match.slice(0, key.length)} ***`,
    );
  return out.length > max ? `${out.slice(0, max - 1)}…` : out;
}

const WORKER_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z)\s+(error|warn|info|debug)\s+(.*)$/;

/** A line of `worker.log`: "<ISO> <level> <text>". */
export function parseWorkerLine(line: string, source: LogSource = "worker"): LogEntry {
  const m = WORKER_LINE.exec(line);
  if (!m) return { source, level: "info", text: cleanLogText(line) };
  return { at: m[1] as string, source, level: m[2] as string, text: cleanLogText(m[3] as string) };
}

/** A line of OpenClaw's gateway log: JSON (time, `_meta.logLevelName`, message), or plain text. */
export function parseGatewayLine(line: string): LogEntry {
  if (line.startsWith("{")) {
    try {
      const record = JSON.parse(line) as {
        time?: unknown;
        message?: unknown;
        0?: unknown;
        _meta?: { logLevelName?: unknown; date?: unknown };
      };
      const time = typeof record.time === "string" ? record.time : record._meta?.date;
      const at = typeof time === "string" && !Number.isNaN(Date.parse(time)) ? new Date(time) : undefined;
      const message = typeof record.message === "string" ? record.message : record[0];
      const level = record._meta?.logLevelName;
      return {
        ...(at ? { at: at.toISOString() } : {}),
        source: "gateway",
        level: typeof level === "string" ? level.toLowerCase().slice(0, 8) : "info",
        text: cleanLogText(typeof message === "string" ? message : line),
      };
    } catch {
      // Not JSON after all: shown as it is below.
    }
  }
  const plain = parseWorkerLine(line, "gateway");
  return plain;
}

/** Lines without a time take the time of the line before them, so a merge keeps them in place. */
function carryTimes(entries: readonly LogEntry[]): LogEntry[] {
  let last: string | undefined;
  return entries.map((e) => {
    if (e.at) {
      last = e.at;
      return e;
    }
    return last ? { ...e, at: last } : e;
  });
}

/** Several sources merged by time; each source keeps its own order, untimed lines stay first. */
export function mergeByTime(lists: readonly (readonly LogEntry[])[]): LogEntry[] {
  const tagged = lists.flatMap((list, source) =>
    carryTimes(list).map((entry, index) => ({ entry, source, index })),
  );
  const time = (e: LogEntry) => (e.at ? Date.parse(e.at) : Number.NEGATIVE_INFINITY);
  tagged.sort((a, b) => time(a.entry) - time(b.entry) || a.source - b.source || a.index - b.index);
  return tagged.map((t) => t.entry);
}

export interface LogFilter {
  /** Only lines at or after this time (ms since the epoch). */
  sinceMs?: number;
  /** Only lines that contain this text (case-insensitive). */
  grep?: string;
}

/** The lines a filter lets through; untimed lines pass a `since` only when nothing dates them. */
export function filterLog(entries: readonly LogEntry[], filter: LogFilter): LogEntry[] {
  const needle = filter.grep?.toLowerCase();
  return entries.filter((e) => {
    if (filter.sinceMs !== undefined && e.at && Date.parse(e.at) < filter.sinceMs) return false;
    return !needle || e.text.toLowerCase().includes(needle) || e.level.includes(needle);
  });
}

/** "10m", "2h", "30s", "1d" → ms; undefined when it is not one. */
export function parseSince(text: string): number | undefined {
  const m = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as "s" | "m" | "h" | "d"];
  return Number(m[1]) * unit;
}

/** The tail a heartbeat carries: the last lines, each bounded and cleaned. */
export function heartbeatTail(entries: readonly LogEntry[]): { at: string; level: string; text: string }[] {
  return entries.slice(-HEARTBEAT_LOG_LINES).map((e) => ({
    at: e.at ?? new Date(0).toISOString(),
    level: e.level.slice(0, 8),
    text: cleanLogText(e.text, HEARTBEAT_LOG_CHARS),
  }));
}

/**
 * A worker's last log lines, kept in memory for its heartbeats. The worker log is one per
 * machine; each node's heartbeat gets the lines that name it and those that name no node it
 * serves (the worker's own lines).
 */
export class LogTail {
  private readonly lines: LogEntry[] = [];
  constructor(private readonly keep = HEARTBEAT_LOG_LINES * 4) {}

  /** A line as the worker log has it: "<ISO> <level> <text>". */
  push(line: string): void {
    this.lines.push(parseWorkerLine(line));
    if (this.lines.length > this.keep) this.lines.splice(0, this.lines.length - this.keep);
  }

  forNode(node: string, served: readonly string[]): ReturnType<typeof heartbeatTail> {
    return heartbeatTail(this.lines.filter((e) => concernsNode(e.text, node, served)));
  }
}

/** A worker line is about `node` when it names it, or names none of the other nodes it serves. */
export function concernsNode(text: string, node: string, served: readonly string[]): boolean {
  const names = (id: string) => new RegExp(`(^|[^\\w-])${escapeRegExp(id)}([^\\w-]|$)`).test(text);
  return names(node) || !served.some((id) => id !== node && names(id));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
