import type { HandedBack } from "../core/domain/federation-types.js";

/** What quitting did to tasks that were running in this process (printed after the screen is restored). */
export function handedBackLines(all: readonly HandedBack[]): string[] {
  const stuck = all.filter((t) => t.stillClaimed);
  const tasks = all.filter((t) => !t.stillClaimed);
  const stuckLines = stuck.length
    ? [
        `clawos: ${stuck.map((t) => t.id).join(", ")} could not be handed back in time: ${stuck.length === 1 ? "it goes" : "they go"} back to the inbox when the lease runs out (the hub's worker does that)`,
      ]
    : [];
  if (tasks.length === 0) return stuckLines;
  const nodes = [...new Set(tasks.map((t) => t.node))];
  const unserved = [...new Set(tasks.filter((t) => !t.served).map((t) => t.node))];
  return [
    `clawos: ${tasks.length === 1 ? "1 task was" : `${tasks.length} tasks were`} still running here and went back to ${nodes.map((n) => `${n}'s`).join(", ")} inbox, nothing lost: ${tasks.map((t) => t.id).join(", ")}`,
    unserved.length
      ? `  a worker runs ${tasks.length === 1 ? "it" : "them"}: ${unserved.map((n) => `clawos node run --node ${n}`).join("; ")}`
      : `  ${nodes.map((n) => `${n}'s`).join(", ")} ${nodes.length === 1 ? "worker picks" : "workers pick"} ${tasks.length === 1 ? "it" : "them"} up`,
    ...stuckLines,
  ];
}
