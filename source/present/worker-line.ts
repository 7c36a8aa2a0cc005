import type { MachineWorker } from "../core/domain/federation-types.js";
import { clockOf } from "./clock.js";
import { cmd } from "./invocation.js";

const HOW: Record<NonNullable<MachineWorker["kind"]>, string> = {
  background: "in the background",
  service: "as a service",
  manual: "running, started by hand",
};

/** This machine's worker in one line (`clawos status`): running how, pid, since when. */
export function workerLine(worker: MachineWorker | undefined, now: number): string {
  if (!worker) return "Worker: not looked up yet";
  if (!worker.running && worker.unserved?.length) {
    const [a, b, ...rest] = worker.unserved;
    const names = [a, b].filter(Boolean).join(", ") + (rest.length ? ` and ${rest.length} more` : "");
    return `Worker: none for ${names} (one started by hand serves the rest); ${cmd("node run")}`;
  }
  if (!worker.running)
    // One line that fits 80 columns: `status` piped stays within a terminal.
    return worker.serviceInstalled
      ? `Worker: not running; its tasks wait (start its service, or ${cmd("node run")})`
      : `Worker: not running on this machine; its tasks wait (${cmd("node run")})`;
  const since = clockOf(worker.since, now);
  const facts = [
    HOW[worker.kind ?? "manual"],
    ...(worker.pid ? [`pid ${worker.pid}`] : []),
    ...(since ? [`since ${since}`] : []),
  ];
  const stop = worker.kind === "background" ? `; ${cmd("node stop-worker")} stops it` : "";
  return `Worker: ${facts.join(", ")}${stop}`;
}

/** The same in a few words, for the control center's title bar (without the pid where room is short). */
export function workerBadge(worker: MachineWorker | undefined, withPid = true): string {
  if (!worker) return "";
  if (!worker.running) return worker.unserved?.length ? "worker: partial" : "worker: none";
  const kind =
    worker.kind === "service" ? "service" : worker.kind === "background" ? "background" : "by hand";
  return `worker: ${kind}${worker.pid && withPid ? ` ${worker.pid}` : ""}`;
}
