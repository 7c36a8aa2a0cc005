import { describeError } from "./core/domain/errors.js";
import type { HandedBack } from "./core/domain/federation-types.js";
import { LiveFederation } from "./core/federation/live-federation.js";
import { loadConfig } from "./core/infra/config.js";

/** `clawos tui`: open the live facade and hand it to the UI; the UI restores the terminal however it ends. */
export async function startTui(options: {
  home: string;
  env: NodeJS.ProcessEnv;
  readonly: boolean;
  err: (line: string) => void;
}): Promise<number> {
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    options.err("clawos: the control center needs a terminal. For a one-shot view use: clawos status");
    return 2;
  }
  const { config } = await loadConfig(options.home);
  // Load the UI while the federation is read: the first frame does not wait for a big board.
  const ui = import("./ui/load-tui.js").then((m) => m.loadTui());
  const live = await LiveFederation.open(options.home, options.env, { waitForFirstRead: false });
  // Listening ourselves makes runTui restore the terminal and resolve on a signal instead of
  // re-raising it, so the facade below still closes (its watchers and timers stop).
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  let signalled = false;
  const onSignal = () => {
    signalled = true;
  };
  for (const s of signals) process.on(s, onSignal);
  try {
    const { runTui } = await ui;
    await runTui(live, {
      stdin: process.stdin,
      stdout: process.stdout,
      readonly: options.readonly,
      keys: config.keys,
    });
    return signalled ? 130 : 0;
  } catch (error) {
    options.err(`clawos: ${describeError(error)}`);
    return 1;
  } finally {
    for (const s of signals) process.off(s, onSignal);
    for (const line of handedBackLines(await live.close())) options.err(line);
  }
}

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
