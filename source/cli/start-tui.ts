import { describeError } from "../core/domain/errors.js";
import { guardedApi } from "../core/federation/guarded-api.js";
import { LiveFederation } from "../core/federation/live-federation.js";
import { localActor } from "../core/infra/audit-log.js";
import { loadConfig } from "../core/infra/config.js";
import { handedBackLines } from "../present/handed-back.js";
import { EXIT, stopOnSignals } from "./signals.js";

/** `clawos tui`: open the live facade and hand it to the UI; the UI restores the terminal however it ends. */
export async function startTui(options: {
  home: string;
  env: NodeJS.ProcessEnv;
  readonly: boolean;
  err: (line: string) => void;
}): Promise<number> {
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    options.err("clawos: the control center needs a terminal. For a one-shot view use: clawos status");
    return EXIT.usage;
  }
  // Load the UI while the config and the federation are read: the first frame waits for neither.
  const ui = import("../ui/load-tui.js").then((m) => m.loadTui());
  ui.catch(() => {}); // awaited below; a bad config must not leave it unhandled
  const { config } = await loadConfig(options.home);
  // The first snapshot reads no more finished tasks than the screen has rows; the rest follow.
  const live = await LiveFederation.open(options.home, options.env, {
    waitForFirstRead: false,
    firstFinished: Math.max(process.stdout.rows ?? 0, 50),
  });
  // Tasks the control center hands back when it quits, or a retry, wait for this machine's
  // worker. Started beside the first frame (the title bar shows it); said when the screen closes.
  const worker = live
    .ensureWorker()
    .catch((error: unknown) => ({ message: `clawos: this machine's worker: ${describeError(error)}` }));
  // Listening ourselves makes runTui restore the terminal and resolve on a signal instead of
  // re-raising it, so the facade below still closes (its watchers and timers stop).
  const stop = stopOnSignals(["SIGINT", "SIGTERM", "SIGHUP"], { keepListening: true });
  // Local use is admin; the guard is here for the audit log. Its problems are said after the screen closes.
  const auditProblems = new Set<string>();
  const api = guardedApi(live, {
    role: "admin",
    actor: localActor(options.env),
    home: options.home,
    onAuditProblem: (line) => auditProblems.add(line),
  });
  try {
    const { runTui } = await ui;
    await runTui(api, {
      stdin: process.stdin,
      stdout: process.stdout,
      readonly: options.readonly,
      keys: config.keys,
    });
    return stop.signal.aborted ? EXIT.interrupted : EXIT.ok;
  } catch (error) {
    options.err(`clawos: ${describeError(error)}`);
    return EXIT.failed;
  } finally {
    stop.dispose();
    const started = await worker;
    for (const line of handedBackLines(await live.close())) options.err(line);
    if (started.message) options.err(started.message);
    for (const line of auditProblems) options.err(`clawos: ${line}`);
  }
}
