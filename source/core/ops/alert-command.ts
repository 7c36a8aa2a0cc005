import { spawn } from "node:child_process";
import type { FleetEvent } from "../domain/federation-types.js";
import { eventJson } from "../domain/fleet-events.js";
import { sanitizeLine } from "../infra/sanitize.js";

/** What an alert command said, kept for the worker log (the rest is dropped). */
const MAX_OUTPUT = 2000;

/**
 * Runs one alert command for one event: argv as given (no shell, so nothing in the event is
 * ever parsed as a command), the event as one JSON object on stdin, killed after `timeoutMs`.
 * Resolves with one line for the worker log, whatever happens; never throws.
 */
export function runAlertCommand(
  argv: readonly string[],
  event: FleetEvent,
  timeoutMs: number,
): Promise<string> {
  const [program, ...args] = argv;
  const name = sanitizeLine(argv.join(" ")).slice(0, 200);
  return new Promise((resolve) => {
    let output = "";
    let timedOut = false;
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(program as string, args, { stdio: ["pipe", "pipe", "pipe"], detached: false });
    } catch (error) {
      resolve(`alert command ${name} could not start: ${String(error)}`);
      return;
    }
    const keep = (chunk: Buffer) => {
      if (output.length < MAX_OUTPUT) output += chunk.toString("utf8");
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      resolve(`alert command ${name} could not start: ${error.message}`);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const said = sanitizeLine(output.trim()).slice(0, MAX_OUTPUT);
      const how = timedOut
        ? `was stopped after ${timeoutMs} ms`
        : signal
          ? `ended by ${signal}`
          : code === 0
            ? "done"
            : `failed (exit ${code})`;
      resolve(`alert ${event.kind} ${event.node ?? "federation"}: ${name} ${how}${said ? `: ${said}` : ""}`);
    });
    // A command that does not read its stdin closes it: that is not an error.
    child.stdin?.on("error", () => {});
    child.stdin?.end(`${eventJson(event)}\n`);
  });
}
