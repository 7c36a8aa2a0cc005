import { realpathSync } from "node:fs";
import { join } from "node:path";
import { type Command, Option } from "commander";
import { describeError, UserError } from "../../core/domain/errors.js";
import { watchConfigFile } from "../../core/federation/config-watch.js";
import type { FederationCore } from "../../core/federation/federation.js";
import { ownNodesKey, readRegistry } from "../../core/federation/registry.js";
import { runWorker } from "../../core/federation/worker.js";
import { loadConfig } from "../../core/infra/config.js";
import { LogTail } from "../../core/infra/log-entries.js";
import { LOG_LEVELS, type LogLevel, levelOf, rotatingLog } from "../../core/infra/log-file.js";
import { sanitizeLine } from "../../core/infra/sanitize.js";
import { replaceProcess } from "../../long-running-heap.js";
import type { CliContext } from "../context.js";
import { collect, parsePositiveInt } from "../options.js";
import { EXIT, type ExitCode, stopOnSignals } from "../signals.js";

interface RunOptions {
  node?: string[];
  adopt?: boolean;
  once?: boolean;
  coordinator?: boolean;
  concurrency: number;
  grace: number;
  logFile?: string;
  logLevel: LogLevel;
  quiet?: boolean;
}

/** `clawos node run` (this machine's worker) and `clawos node install-service`. */
export function register(program: Command, ctx: CliContext): void {
  const nodeCmd = program.command("node").description("run this machine's worker");
  nodeCmd
    .command("run")
    .description("pick up blackboard tasks for nodes on this machine, run them, heartbeat")
    .option(
      "--node <id>",
      "serve this node (repeatable; default: every node whose machine is this one)",
      collect,
    )
    .option("--adopt", "serve the --node nodes even when federation.json says another machine owns them")
    .option("--once", "process what is waiting, then exit (for cron)")
    .option("--coordinator", "also reap expired leases and re-route stuck tasks")
    .option("--no-coordinator", "never do coordinator duties")
    .option("--concurrency <n>", "tasks at once per node", parsePositiveInt, 2)
    .option("--grace <seconds>", "on SIGTERM, let running tasks finish this long", parsePositiveInt, 10)
    .option("--log-file <path>", "also log here, rotated at 5 MB (default: <home>/logs/worker.log)")
    .option("--quiet", "log only to the log file, not to stderr (a worker started in the background)")
    .addOption(
      new Option("--log-level <level>", "least important lines shown")
        .choices(["error", "warn", "info"])
        .default("info"),
    )
    .action(ctx.action((opts: RunOptions) => runNode(ctx, opts)));
  nodeCmd
    .command("stop-worker")
    .description(
      "stop the worker a clawos command started in the background (running tasks go back to their inbox)",
    )
    .action(
      ctx.action(async () => {
        const { stopWorker } = await import("../../core/ops/worker-autostart.js");
        const result = await ctx.withCore((core) => stopWorker(ctx.home(), ctx.io.env, { core }));
        ctx.say(result.message);
        return result.action === "still-running" ? EXIT.failed : EXIT.ok;
      }),
    );
  nodeCmd
    .command("install-service")
    .description("run the worker as a systemd user unit (Linux) or launchd agent (macOS)")
    .option("--node <id>", "serve only this node (repeatable)", collect)
    .option("--print", "show the file instead of installing it")
    .option("--uninstall", "stop and remove it")
    .action(
      ctx.action(async (opts: { node?: string[]; print?: boolean; uninstall?: boolean }) => {
        const { installService, serviceFile, uninstallService } = await import(
          "../../core/ops/worker-service.js"
        );
        const file = serviceFile({
          platform: process.platform,
          home: ctx.home(),
          nodeBin: process.execPath,
          cliBin: serviceCliPath(process.argv[1]),
          nodes: opts.node ?? [],
          env: ctx.io.env,
        });
        if (opts.print) {
          ctx.out(`# ${file.path}`);
          ctx.out(file.content);
          return;
        }
        const notes = opts.uninstall ? await uninstallService(file) : await installService(file);
        for (const n of notes) ctx.say(n);
      }),
    );
}

/** Runs the worker until a signal (or, with --once, until the inbox is empty). */
async function runNode(ctx: CliContext, opts: RunOptions): Promise<ExitCode> {
  if (opts.adopt && !opts.node?.length)
    throw new UserError("--adopt serves the nodes named with --node; name them (--node ID --adopt).", {
      code: "usage",
    });
  const fileLog = rotatingLog(opts.logFile ?? join(ctx.home(), "logs", "worker.log"));
  const shown = LOG_LEVELS.indexOf(opts.logLevel);
  const stop = new AbortController();
  const handBack = new AbortController();
  let restart = false;
  // A signal always means stop for good, even while a restart waits for running tasks:
  // those then get the usual grace before they are handed back.
  const signalled = stopOnSignals(["SIGTERM", "SIGINT"]);
  signalled.signal.addEventListener("abort", () => {
    if (restart) {
      restart = false;
      setTimeout(() => handBack.abort(), opts.grace * 1000).unref();
    }
    stop.abort();
  });
  let unwatchConfig = () => {};
  const tail = new LogTail();
  const log = (line: string) => {
    const level = levelOf(line);
    if (LOG_LEVELS.indexOf(level) > shown) return;
    const text = `${new Date().toISOString()} ${level.padEnd(5)} ${sanitizeLine(line)}`;
    if (!opts.quiet) ctx.err(text);
    fileLog(text);
    tail.push(text);
  };
  try {
    await ctx.withCore(
      async (core) => {
        // A worker runs for days: when the registry changes under it (a node added, a port
        // moved by init), it finishes what it runs and starts again on the new one.
        if (!opts.once)
          unwatchConfig = restartOnConfigChange(ctx.home(), core, stop.signal, log, () => {
            restart = true;
            stop.abort();
          });
        const bb = core.config.blackboard;
        // NATS: whichever worker holds the coordinator lease does the duties.
        const coordinator =
          opts.coordinator ??
          (bb.driver === "directory"
            ? bb.coordinator === undefined || bb.coordinator === core.machine
            : "auto");
        const summary = await runWorker(core, {
          nodes: opts.node ?? [],
          adopt: Boolean(opts.adopt),
          once: Boolean(opts.once),
          coordinator,
          concurrency: opts.concurrency,
          // A restart waits for running tasks; a stop gives them --grace.
          get graceMs() {
            return restart ? Number.POSITIVE_INFINITY : opts.grace * 1000;
          },
          handBack: handBack.signal,
          stop: stop.signal,
          log,
          tail,
        });
        if (opts.once)
          ctx.out(
            `${summary.completed} completed, ${summary.failed} failed, ${summary.requeued} handed back`,
          );
      },
      { quarantine: true },
    );
  } finally {
    unwatchConfig();
    signalled.dispose();
  }
  if (restart && !replaceProcess()) {
    // No execve here (Node before 23.11): end with "temporary failure"; the service restarts us.
    ctx.err("clawos: federation.json changed; start the worker again to use it (a service does so itself).");
    return EXIT.restart;
  }
  return EXIT.ok;
}

/** Calls `restart` when federation.json changes into a different, usable registry. Returns the unwatch. */
function restartOnConfigChange(
  home: string,
  core: FederationCore,
  stopped: AbortSignal,
  log: (line: string) => void,
  restart: () => void,
): () => void {
  const started = JSON.stringify(core.config);
  const unwatchRegistry = watchOwnNodes(core, stopped, log, restart);
  const unwatchFile = watchConfigFile(home, () => {
    loadConfig(home).then(
      (fresh) => {
        if (stopped.aborted || JSON.stringify(fresh.config) === started) return;
        if (!fresh.exists) {
          log("federation.json is gone (moved aside?); this worker keeps the one it started with");
          return;
        }
        log("federation.json changed: restarting on it once running tasks are done");
        restart();
      },
      (error: unknown) =>
        log(
          `federation.json changed but cannot be used; this worker keeps the old one: ${describeError(error)}`,
        ),
    );
  });
  return () => {
    unwatchRegistry();
    unwatchFile();
  };
}

/**
 * The registry changes rarely (a node added, moved or renamed): a worker reads it at most this
 * often, whatever its rescan, so a tight rescan does not add a listing several times a second.
 */
const REGISTRY_POLL_MIN_MS = 2_000;

/** Calls `restart` when this machine's nodes change in the shared registry (read once per rescan, at most every 2 s). */
function watchOwnNodes(
  core: FederationCore,
  stopped: AbortSignal,
  log: (line: string) => void,
  restart: () => void,
): () => void {
  const started = ownNodesKey(core.registry, core.machine);
  let busy = false;
  const timer = setInterval(
    () => {
      if (busy || stopped.aborted) return;
      busy = true;
      readRegistry(core.blackboard, core.config, core.machine)
        .then((view) => {
          if (stopped.aborted || ownNodesKey(view, core.machine) === started) return;
          clearInterval(timer);
          log(
            "the shared registry changed this machine's nodes: restarting on it once running tasks are done",
          );
          restart();
        })
        .catch(() => {}) // the blackboard is away for a moment: the next round reads again
        .finally(() => {
          busy = false;
        });
    },
    Math.max(core.config.timing.rescanMs, REGISTRY_POLL_MIN_MS),
  );
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The CLI path a service should run. `npx clawos` starts it through a link in npm's cache
 * (`…/_npx/<hash>/node_modules/.bin/clawos`), which a cache clean removes: use the real file
 * then. Any other path is kept as started (a global install's link survives upgrades; the
 * real file of a pnpm install sits in a versioned folder that does not).
 */
export function serviceCliPath(started: string | undefined): string {
  if (!started) return "clawos";
  return /[\\/]_npx[\\/]/.test(started) ? realpathSync(started) : started;
}
