import { appendFileSync, mkdirSync, renameSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { sanitizeLine } from "./sanitize.js";

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const MAX_BYTES = 5 * 1024 * 1024;
const KEEP = 3;

/**
 * A log file that rotates itself at 5 MB (worker.log → worker.log.1 … .3), so a worker
 * that runs for weeks never fills the disk. Synchronous appends: lines are few and small.
 * Lines quote records from the blackboard: each is sanitized here, one line per entry, so
 * `tail -f` on the log cannot be driven by a planted escape sequence or forged line.
 */
export function rotatingLog(path: string): (line: string) => void {
  mkdirSync(dirname(path), { recursive: true });
  let size = 0;
  try {
    size = statSync(path).size;
  } catch {
    size = 0;
  }
  return (line: string) => {
    const text = `${sanitizeLine(line)}\n`;
    try {
      if (size + text.length > MAX_BYTES) {
        for (let i = KEEP - 1; i >= 1; i--) {
          try {
            renameSync(`${path}.${i}`, `${path}.${i + 1}`);
          } catch {
            // that generation does not exist yet
          }
        }
        renameSync(path, `${path}.1`);
        size = 0;
      }
      appendFileSync(path, text, { mode: 0o600 });
      size += Buffer.byteLength(text);
    } catch {
      // A full or read-only disk must not stop the worker; stderr still has the line.
    }
  };
}

/** The worker speaks in plain lines; its level is read off the words in them. */
export function levelOf(line: string): LogLevel {
  if (/\b(failed|cannot|error|not written)\b/i.test(line)) return "error";
  if (/\b(down|expired|lost|quarantined|re-routed|stopping|left alone)\b/i.test(line)) return "warn";
  return "info";
}
