import { appendFile } from "node:fs/promises";
import { sanitizeLine } from "../core/infra/sanitize.js";

/** One line of the serve log. */
export type ServeLog = (line: string) => void;

/**
 * Lines appended to `file` (mode 0600), each time-stamped and sanitized. Fire and forget: a log that
 * cannot be written must not stop a session.
 */
export function serveLog(file: string): ServeLog {
  return (line: string) => {
    void appendFile(file, `${new Date().toISOString()} ${sanitizeLine(line)}\n`, {
      mode: 0o600,
    }).catch(() => {});
  };
}
