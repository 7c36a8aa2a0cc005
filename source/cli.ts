import { realpathSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import {
  ACTIVE_STATES,
  countsLine,
  renderNodesTable,
  renderStatusMarkdown,
  renderStatusText,
  renderTasksTable,
  type StatusData,
} from "./cli/status-report.js";
import { renderTaskText } from "./cli/task-text.js";
import type { StoredTask } from "./core/blackboard/types.js";
import { describeError, UserError } from "./core/domain/errors.js";
import type { TaskView } from "./core/domain/federation-types.js";
import {
  type NodeConfigInput,
  PRIORITIES,
  type Priority,
  TASK_STATES,
  type TaskState,
} from "./core/domain/schema.js";
import { watchConfigFile } from "./core/federation/config-watch.js";
import { FederationCore, toTaskView } from "./core/federation/federation.js";
import { waitingHint } from "./core/federation/waiting.js";
import { runWorker } from "./core/federation/worker.js";
import { loadConfig, looseTokenFiles, parseNode, saveConfig, thisMachine } from "./core/infra/config.js";
import { LOG_LEVELS, type LogLevel, levelOf, rotatingLog } from "./core/infra/log-file.js";
import { displayPath, resolveHome } from "./core/infra/paths.js";
import { createStreamSanitizer, sanitizeLine, sanitizeText } from "./core/infra/sanitize.js";
import { readTaskText } from "./core/infra/task-text-input.js";
import { VERSION } from "./core/infra/version.js";
import { registerLocalProfiles } from "./core/ops/discover.js";
import { replaceProcess } from "./long-running-heap.js";
import { type SafeText, safeLine, toSafe } from "./present/safe-text.js";

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

const EXIT_OK = 0;
const EXIT_TASK_FAILED = 1;
const EXIT_USAGE = 2;
/** 128 + SIGINT, as shells report a program stopped by Ctrl+C. */
const EXIT_INTERRUPTED = 130;

function parsePriority(value: string): Priority {
  const upper = value.toUpperCase();
  if (!(PRIORITIES as readonly string[]).includes(upper))
    throw new InvalidArgumentError(`use one of ${PRIORITIES.join(", ")}`);
  return upper as Priority;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a whole number ≥ 1");
  return n;
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new InvalidArgumentError("must be a port number 1–65535");
  return n;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Runs one command line; returns the exit code. Never calls process.exit itself. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const out = (text: string) => io.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  // Messages quote what the user typed (a node id, a tag): never let it drive the terminal.
  const err = (text: string) => {
    const clean = sanitizeText(text);
    io.stderr.write(clean.endsWith("\n") ? clean : `${clean}\n`);
  };
  let exitCode = EXIT_OK;

  const program = new Command("clawos")
    .description("Control center for a federation of OpenClaw gateways")
    .version(VERSION, "-V, --version")
    .option("--home <dir>", "federation home (default: $CLAWOS_HOME or ~/.openclaw/clawos)")
    .showHelpAfterError("(clawos --help shows the commands)")
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(sanitizeText(s)),
    })
    .exitOverride();

  const home = () => resolveHome(program.opts<{ home?: string }>().home, io.env);
  const openCore = (options: { quarantine?: boolean } = {}) =>
    FederationCore.open(home(), { env: io.env, ...options });
  /** The terminal's width when stdout is one (tables then fit it); none for a pipe or file. */
  const terminalColumns = (): { columns?: number } => {
    const stdout = io.stdout as NodeJS.WriteStream;
    return stdout.isTTY && stdout.columns ? { columns: stdout.columns } : {};
  };
  const withCore = async <T>(
    fn: (core: FederationCore) => Promise<T>,
    options: { quarantine?: boolean } = {},
  ): Promise<T> => {
    const core = await openCore(options);
    try {
      return await fn(core);
    } finally {
      await core.close();
    }
  };

  /** Why a pending task is not moving (its node's worker, from the heartbeats; no probe). */
  const waitingLine = async (core: FederationCore, task: TaskView): Promise<SafeText> => {
    const { views } = await core.nodeViews({ probe: false });
    return safeLine(
      waitingHint(
        task,
        views.find((n) => n.id === task.node),
        Date.now(),
      ) ?? "",
    );
  };

  const gatherStatus = async (core: FederationCore, finishedLimit: number): Promise<StatusData> => {
    const [listing, statuses, looseTokens] = await Promise.all([
      core.blackboard.list({ finishedLimit }),
      core.blackboard.readNodeStatuses(),
      looseTokenFiles(core.nodes, home(), io.env),
    ]);
    const inFlight = new Map<string, number>();
    for (const t of listing.tasks) {
      if (ACTIVE_STATES.includes(t.state)) inFlight.set(t.node, (inFlight.get(t.node) ?? 0) + 1);
    }
    const { views } = await core.nodeViews({ probe: true, heartbeats: statuses.records, inFlight });
    return {
      machine: core.machine,
      blackboard: displayPath(core.blackboard.location, io.env),
      nodes: views,
      tasks: listing.tasks.map(toTaskView),
      counts: listing.counts,
      problems: [...looseTokens, ...listing.problems, ...statuses.problems],
      now: new Date(),
    };
  };

  // ── tui (default) ─────────────────────────────────────────────────────────
  const tui = program
    .command("tui", { isDefault: true })
    .description("open the full-screen control center (the default command)")
    .option("--readonly", "watch only: no dispatch, retry or cancel")
    .action(async (opts: { readonly?: boolean }) => {
      const { startTui } = await import("./tui-entry.js");
      exitCode = await startTui({ home: home(), env: io.env, readonly: Boolean(opts.readonly), err });
    });
  void tui;

  // ── status ───────────────────────────────────────────────────────────────
  program
    .command("status")
    .description("print the node and task tables once and exit")
    .option("--json", "machine-readable output")
    .option("--markdown", "the FEDERATION_STATUS.md layout")
    .option("--limit <n>", "tasks to show", parsePositiveInt, 20)
    .action(async (opts: { json?: boolean; markdown?: boolean; limit: number }) => {
      await withCore(async (core) => {
        const data = await gatherStatus(core, opts.json || opts.markdown ? 200 : opts.limit);
        if (opts.json) out(JSON.stringify({ ...data, now: data.now.toISOString() }, null, 2));
        else if (opts.markdown) out(renderStatusMarkdown(toSafe(data)));
        else out(renderStatusText(toSafe(data), { taskLimit: opts.limit, ...terminalColumns() }));
      });
    });

  // ── dispatch ─────────────────────────────────────────────────────────────
  program
    .command("dispatch")
    .description('create and route a task ("-" reads the text from stdin)')
    .argument("<text...>", "what the agent should do")
    .option("--to <node>", "a node id, or any", "any")
    .addOption(new Option("--priority <p>", "P0 (urgent) … P3").argParser(parsePriority).default("P2"))
    .option("--tag <tag>", "only nodes with this tag (repeatable)", collect)
    .option("--wait", "wait for the answer and stream it to stdout")
    .option(
      "--timeout <seconds>",
      "with --wait: stop waiting after this long (the task goes on)",
      parsePositiveInt,
    )
    .option("--json", "machine-readable output")
    .action(
      async (
        words: string[],
        opts: {
          to: string;
          priority: Priority;
          tag?: string[];
          wait?: boolean;
          json?: boolean;
          timeout?: number;
        },
      ) => {
        let text = words.join(" ");
        if (text === "-") text = (await readTaskText(io.stdin)).replace(/\s+$/, ""); // echo's newline is not part of the task
        // Ctrl+C (or SIGTERM) stops a task this process is running and hands it back to its
        // node's inbox, instead of leaving it claimed by a process that is gone. A second one kills.
        const interrupt = new AbortController();
        let interruptedCode = EXIT_INTERRUPTED;
        const onSignal = (signal: NodeJS.Signals) => {
          interruptedCode = signal === "SIGTERM" ? 143 : EXIT_INTERRUPTED; // 128 + the signal's number
          interrupt.abort();
        };
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        try {
          await withCore(async (core) => {
            const streamToStdout = Boolean(opts.wait && !opts.json);
            let streamed = false;
            const clean = createStreamSanitizer();
            // --timeout ends the wait; a localhost task this process runs is then handed back too.
            const timedOut = opts.timeout && opts.wait ? AbortSignal.timeout(opts.timeout * 1000) : undefined;
            const stop = timedOut ? AbortSignal.any([interrupt.signal, timedOut]) : interrupt.signal;
            /** What stopped this command early, in words and as its exit code. */
            const stopReason = () =>
              interrupt.signal.aborted
                ? { why: "Interrupted", code: interruptedCode }
                : { why: `Stopped after ${opts.timeout} s`, code: EXIT_TASK_FAILED };
            const waitFor = (id: string) =>
              core.waitFor(id, { onProgress: onDelta, signal: stop }).catch(async (error: unknown) => {
                if (!stop.aborted) throw error;
                // --json still gets the task as it stands, as it does for one run here.
                const now = opts.json ? await core.blackboard.get(id) : undefined;
                if (now) out(JSON.stringify(toTaskView(now), null, 2));
                if (streamed) io.stdout.write(`${clean.end()}\n`);
                streamed = false;
                // The same words as a localhost task handed back, but this one is not ours to stop.
                const { why, code } = stopReason();
                throw new UserError(`${why}: ${id} goes on without this command.`, {
                  hint: `follow it with clawos tasks show ${id}, or drop it with clawos tasks cancel ${id}`,
                  exitCode: code,
                });
              });
            const onDelta = (delta: string) => {
              if (!streamToStdout) return;
              streamed = true;
              io.stdout.write(clean.push(delta));
            };
            const dispatched = await core.dispatch(
              { text, to: opts.to, priority: opts.priority, ...(opts.tag ? { tags: opts.tag } : {}) },
              { onDelta, signal: stop },
            );
            const { request } = dispatched;
            if (!dispatched.created) {
              if (!opts.json) err(`Task ${request.id} already exists; nothing new was queued.`);
              return;
            }
            if (!opts.json) {
              err(
                `${request.id} → ${request.route.node} via ${request.route.transport}: ${request.route.reason}`,
              );
              // This process runs it: say why the command does not return yet.
              if (dispatched.run && !opts.wait)
                err(
                  `  running it here until ${request.route.node} answers (Ctrl+C hands it back to the inbox)`,
                );
            }
            let final = dispatched.run
              ? await dispatched.run.then(() => core.blackboard.get(request.id))
              : undefined;
            if (!final && opts.wait && dispatched.waiting && !opts.json) {
              err(
                `waiting for ${request.route.node} to take it (Ctrl+C stops waiting; the task stays queued).`,
              );
              err(
                `  nothing happens until ${request.route.node}'s gateway is up and a worker serves it: clawos node run --node ${request.route.node}`,
              );
            }
            if (!final && opts.wait) {
              final = await waitFor(request.id);
            }
            if (streamed) io.stdout.write(`${clean.end()}\n`);
            if (final && stop.aborted && ACTIVE_STATES.includes(final.state)) {
              const { why, code } = stopReason();
              exitCode = code;
              if (opts.json) out(JSON.stringify(toTaskView(final), null, 2));
              else {
                err(
                  `${why}: ${request.id} is back in ${final.node}'s inbox (attempt ${final.request.attempt}/${final.request.maxAttempts}), nothing lost.`,
                );
                err(
                  `  it runs when a worker serves ${final.node} (clawos node run --node ${final.node}); clawos tasks cancel ${request.id} drops it`,
                );
              }
              return;
            }
            if (opts.json) {
              const task = final ?? (await core.blackboard.get(request.id));
              out(
                JSON.stringify(task ? toTaskView(task) : { id: request.id, route: request.route }, null, 2),
              );
            }
            if (final) {
              if (final.state === "completed") {
                if (!opts.json && !streamed && opts.wait) out(sanitizeText(final.result?.text ?? ""));
                if (!opts.json && !opts.wait)
                  err(`${request.id} completed on ${final.node} (clawos tasks show ${request.id})`);
              } else if (final.state === "pending" && !opts.wait) {
                if (!opts.json) await explainWaiting(core, final);
              } else if (ACTIVE_STATES.includes(final.state)) {
                // Handed back to the blackboard after a failure: say why, then keep waiting there.
                if (!opts.json && final.state === "pending") await explainWaiting(core, final);
                const settled = opts.wait ? await waitFor(request.id) : final;
                exitCode = reportFinal(settled, opts.json);
              } else {
                exitCode = reportFinal(final, opts.json);
              }
            } else if (!opts.json) {
              err(`queued; follow it with: clawos tasks show ${request.id}`);
            }
          });
        } finally {
          process.off("SIGINT", onSignal);
          process.off("SIGTERM", onSignal);
        }
      },
    );

  /** A task dispatched here that now waits in an inbox: the failure that put it there, and what runs it. */
  const explainWaiting = async (core: FederationCore, task: StoredTask): Promise<void> => {
    const failed = task.request.history.findLast((h) => h.event === "attempt-failed");
    err(
      `${task.request.id} is waiting in ${task.node}'s inbox (attempt ${task.request.attempt}/${task.request.maxAttempts})${failed ? ` after: ${sanitizeLine(failed.detail).replace(/\.$/, "")}` : ""}.`,
    );
    err(`  ${await waitingLine(core, toTaskView(task))}`);
  };

  const reportFinal = (task: Awaited<ReturnType<FederationCore["waitFor"]>>, json?: boolean): number => {
    if (task.state === "completed") return EXIT_OK;
    if (!json) {
      const e = task.result?.error;
      err(`${task.request.id} ${task.state}${e ? `: ${sanitizeLine(e.message)}` : ""}`);
      if (e?.hint) err(`  fix: ${sanitizeLine(e.hint)}`);
    }
    return task.state === "pending" || task.state === "running" || task.state === "claimed"
      ? EXIT_OK
      : EXIT_TASK_FAILED;
  };

  // ── tasks ────────────────────────────────────────────────────────────────
  const tasks = program.command("tasks").description("list, show, retry and cancel tasks");
  tasks
    .command("list")
    .description("list tasks, pending first")
    .option("--state <state>", `only this state (${TASK_STATES.join(", ")})`)
    .option("--node <node>", "only tasks routed to this node")
    .option("--limit <n>", "finished tasks to read", parsePositiveInt, 200)
    .option("--json", "machine-readable output")
    .action(async (opts: { state?: string; node?: string; limit: number; json?: boolean }) => {
      if (opts.state && !(TASK_STATES as readonly string[]).includes(opts.state)) {
        throw new UserError(`Unknown state "${sanitizeLine(opts.state).slice(0, 30)}".`, {
          hint: `use one of ${TASK_STATES.join(", ")}`,
        });
      }
      await withCore(async (core) => {
        const listing = await core.blackboard.list({ finishedLimit: opts.limit });
        const views = listing.tasks
          .map(toTaskView)
          .filter(
            (t) =>
              (!opts.state || t.state === (opts.state as TaskState)) && (!opts.node || t.node === opts.node),
          );
        if (opts.json)
          out(JSON.stringify({ tasks: views, counts: listing.counts, problems: listing.problems }, null, 2));
        else {
          out(
            views.length
              ? renderTasksTable(toSafe(views), Date.now(), terminalColumns().columns)
              : "No tasks.",
          );
          out(`(${countsLine(listing.counts)})`);
          for (const p of listing.problems) err(`! ${sanitizeLine(p)}`);
        }
      });
    });
  tasks
    .command("show")
    .description("everything about one task: request, route, attempts, reply")
    .argument("<id>")
    .option("--json", "machine-readable output")
    .action(async (id: string, opts: { json?: boolean }) => {
      await withCore(async (core) => {
        const task = await core.blackboard.get(id);
        if (!task)
          throw new UserError(`No task "${sanitizeLine(id).slice(0, 90)}".`, {
            hint: "clawos tasks list shows the ids; a damaged task file is listed by clawos status (lines starting with !)",
          });
        const v = toTaskView(task);
        if (opts.json) {
          out(JSON.stringify(v, null, 2));
          return;
        }
        out(
          renderTaskText(toSafe(v), {
            now: Date.now(),
            cancelRequested: Boolean(task.cancelRequested),
            ...(v.state === "pending" ? { note: await waitingLine(core, v) } : {}),
          }),
        );
      });
    });
  tasks
    .command("retry")
    .description("run a failed or cancelled task again")
    .argument("<id>")
    .action(async (id: string) => {
      await withCore(async (core) => {
        const task = await core.blackboard.retry(id);
        out(
          task.state === "pending"
            ? `${task.request.id} is queued again in ${task.node}'s inbox (attempt ${task.request.attempt}).`
            : `${task.request.id} is queued again (attempt ${task.request.attempt}) and already ${task.state} on ${task.node}.`,
        );
      });
    });
  tasks
    .command("cancel")
    .description("cancel a pending or running task")
    .argument("<id>")
    .action(async (id: string) => {
      await withCore(async (core) => {
        const task = await core.blackboard.requestCancel(id);
        out(
          task.state === "cancelled"
            ? `${task.request.id} cancelled.`
            : `${task.request.id}: cancel requested; its worker stops it.`,
        );
      });
    });

  // ── nodes ────────────────────────────────────────────────────────────────
  const nodes = program.command("nodes").description("list, add, remove and probe nodes");
  nodes
    .command("list")
    .description("the registry with live health")
    .option("--json", "machine-readable output")
    .action(async (opts: { json?: boolean }) => {
      await withCore(async (core) => {
        const { views } = await core.nodeViews({ probe: true });
        if (opts.json) out(JSON.stringify(views, null, 2));
        else
          out(
            views.length
              ? renderNodesTable(toSafe(views), Date.now(), terminalColumns().columns)
              : "No nodes yet. Run `clawos init` or `clawos nodes add ID --port N`.",
          );
      });
    });
  nodes
    .command("add")
    .description("register a node")
    .argument("<id>", "node id (lowercase letters, digits, -)")
    .option("--port <port>", "gateway port (omit with --planned)", parsePort)
    .option("--planned", "a node without a gateway yet (port TBD)")
    .option("--machine <name>", "the machine it runs on (default: this one)")
    .option("--host <host>", "gateway host as seen from its machine", "127.0.0.1")
    .option("--profile <name>", "OpenClaw profile (default: the default profile)")
    .option("--agent <id>", "OpenClaw agent id", "main")
    .option("--tag <tag>", "capability tag (repeatable)", collect)
    .option("--token-file <path>", "read the gateway token from this file (mode 0600)")
    .option("--token-env <var>", "read the gateway token from this environment variable")
    .option("--no-token", "the gateway needs no token")
    .addOption(
      new Option("--transport <t>", "how to reach it")
        .choices(["auto", "localhost", "blackboard", "ssh"])
        .default("auto"),
    )
    .option("--ssh <user@host[:port]>", "SSH target for urgent tasks")
    .option("--notes <text>", "free text shown in the tables")
    .action(async (id: string, opts: Record<string, unknown>) => {
      const loaded = await loadConfig(home());
      if (loaded.config.nodes.some((n) => n.id === id)) {
        throw new UserError(`Node "${id}" is already registered.`, {
          hint: `remove it first: clawos nodes remove ${id}`,
        });
      }
      if (opts.port === undefined && !opts.planned)
        throw new UserError("Give --port N, or --planned for a node without a gateway yet.");
      const token: NodeConfigInput["token"] = opts.tokenFile
        ? { file: String(opts.tokenFile) }
        : opts.tokenEnv
          ? { env: String(opts.tokenEnv) }
          : opts.token === false
            ? { none: true }
            : { profile: true };
      const node = parseNode({
        id,
        machine: (opts.machine as string | undefined) ?? thisMachine(loaded.config, io.env),
        host: opts.host as string,
        port: opts.planned ? null : (opts.port as number),
        profile: (opts.profile as string | undefined) ?? null,
        agent: opts.agent as string,
        tags: (opts.tag as string[] | undefined) ?? [],
        token,
        transport: opts.transport as "auto",
        ...(opts.ssh ? { ssh: { target: String(opts.ssh) } } : {}),
        ...(opts.notes ? { notes: String(opts.notes) } : {}),
      });
      loaded.config.nodes.push(node);
      await saveConfig(loaded);
      out(
        `Added node ${id} (${node.port === null ? "planned" : `${node.host}:${node.port}`} on ${node.machine}) to ${displayPath(loaded.path, io.env)}.`,
      );
      const twin = loaded.config.nodes.find(
        (n) => n.id !== id && n.machine === node.machine && n.port !== null && n.port === node.port,
      );
      if (twin)
        err(
          `warning: ${twin.id} has the same port ${node.port} on ${node.machine}; two nodes there need different gateways`,
        );
    });
  nodes
    .command("remove")
    .description("unregister a node (its tasks stay on the blackboard)")
    .argument("<id>")
    .action(async (id: string) => {
      const loaded = await loadConfig(home());
      const before = loaded.config.nodes.length;
      loaded.config.nodes = loaded.config.nodes.filter((n) => n.id !== id);
      if (loaded.config.nodes.length === before)
        throw new UserError(`There is no node "${sanitizeLine(id).slice(0, 60)}".`);
      await saveConfig(loaded);
      out(`Removed node ${id}.`);
      const left = await withCore(async (core) =>
        (await core.blackboard.list({ finishedLimit: 0, activeOnly: true })).tasks.filter(
          (t) => t.node === id,
        ),
      ).catch(() => []);
      if (left.length)
        err(
          `note: ${left.length} unfinished task(s) of ${id} stay on the blackboard (${left
            .slice(0, 3)
            .map((t) => t.request.id)
            .join(
              ", ",
            )}${left.length > 3 ? ", …" : ""}); clawos tasks cancel ID, or add ${id} again to run them`,
        );
    });
  nodes
    .command("probe")
    .description("check reachability, token and latency now")
    .argument("[id]", "one node (default: all)")
    .option("--json", "machine-readable output")
    .action(async (id: string | undefined, opts: { json?: boolean }) => {
      await withCore(async (core) => {
        const ids = id ? [core.node(id).id] : core.nodes.map((n) => n.id);
        await Promise.all(ids.filter((n) => core.node(n).port !== null).map((n) => core.probe(n)));
        const { views } = await core.nodeViews();
        const shown = views.filter((v) => ids.includes(v.id));
        if (opts.json) out(JSON.stringify(shown, null, 2));
        else for (const v of shown) out(`${v.id}: ${v.status} — ${sanitizeLine(v.reason)}`);
        if (shown.some((v) => v.status !== "online" && v.status !== "planned")) exitCode = EXIT_TASK_FAILED;
      });
    });

  // ── node run (worker) ────────────────────────────────────────────────────
  const nodeCmd = program.command("node").description("run this machine's worker");
  nodeCmd
    .command("run")
    .description("pick up blackboard tasks for nodes on this machine, run them, heartbeat")
    .option("--node <id>", "serve this node (repeatable; default: every node on this machine)", collect)
    .option("--once", "process what is waiting, then exit (for cron)")
    .option("--coordinator", "also reap expired leases and re-route stuck tasks")
    .option("--no-coordinator", "never do coordinator duties")
    .option("--concurrency <n>", "tasks at once per node", parsePositiveInt, 2)
    .option("--grace <seconds>", "on SIGTERM, let running tasks finish this long", parsePositiveInt, 10)
    .option("--log-file <path>", "also log here, rotated at 5 MB (default: <home>/logs/worker.log)")
    .addOption(
      new Option("--log-level <level>", "least important lines shown")
        .choices(["error", "warn", "info"])
        .default("info"),
    )
    .action(
      async (opts: {
        node?: string[];
        once?: boolean;
        coordinator?: boolean;
        concurrency: number;
        grace: number;
        logFile?: string;
        logLevel: LogLevel;
      }) => {
        const fileLog = rotatingLog(opts.logFile ?? join(home(), "logs", "worker.log"));
        const shown = LOG_LEVELS.indexOf(opts.logLevel);
        const stop = new AbortController();
        const handBack = new AbortController();
        let restart = false;
        // A signal always means stop for good, even while a restart waits for running tasks:
        // those then get the usual grace before they are handed back.
        const onSignal = () => {
          if (restart) {
            restart = false;
            setTimeout(() => handBack.abort(), opts.grace * 1000).unref();
          }
          stop.abort();
        };
        process.once("SIGTERM", onSignal);
        process.once("SIGINT", onSignal);
        let unwatchConfig = () => {};
        const log = (line: string) => {
          const level = levelOf(line);
          if (LOG_LEVELS.indexOf(level) > shown) return;
          const text = `${new Date().toISOString()} ${level.padEnd(5)} ${sanitizeLine(line)}`;
          err(text);
          fileLog(text);
        };
        try {
          await withCore(
            async (core) => {
              // A worker runs for days: when the registry changes under it (a node added, a port
              // moved by init), it finishes what it runs and starts again on the new one.
              if (!opts.once) {
                const started = JSON.stringify(core.config);
                unwatchConfig = watchConfigFile(home(), () => {
                  loadConfig(home()).then(
                    (fresh) => {
                      if (stop.signal.aborted || JSON.stringify(fresh.config) === started) return;
                      if (!fresh.exists) {
                        log(
                          "federation.json is gone (moved aside?); this worker keeps the one it started with",
                        );
                        return;
                      }
                      restart = true;
                      log("federation.json changed: restarting on it once running tasks are done");
                      stop.abort();
                    },
                    (error: unknown) =>
                      log(
                        `federation.json changed but cannot be used; this worker keeps the old one: ${describeError(error)}`,
                      ),
                  );
                });
              }
              const bb = core.config.blackboard;
              // NATS: whichever worker holds the coordinator lease does the duties.
              const coordinator =
                opts.coordinator ??
                (bb.driver === "directory"
                  ? bb.coordinator === undefined || bb.coordinator === core.machine
                  : "auto");
              const summary = await runWorker(core, {
                nodes: opts.node ?? [],
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
              });
              if (opts.once)
                out(
                  `${summary.completed} completed, ${summary.failed} failed, ${summary.requeued} handed back`,
                );
            },
            { quarantine: true },
          );
        } finally {
          unwatchConfig();
          process.off("SIGTERM", onSignal);
          process.off("SIGINT", onSignal);
        }
        if (restart && !replaceProcess()) {
          // No execve here (Node before 23.11): end with "temporary failure"; the service restarts us.
          err(
            "clawos: federation.json changed; start the worker again to use it (a service does so itself).",
          );
          exitCode = 75;
        }
      },
    );

  // ── incubate ─────────────────────────────────────────────────────────────
  program
    .command("incubate")
    .description("create a new local OpenClaw instance on its own port and register it as a node")
    .argument("<name>", "node and profile name (lowercase letters, digits, -)")
    .option("--port <port>", "base port (default: the first one 20 away from every known gateway)", parsePort)
    .option("--agent <id>", "OpenClaw agent id", "main")
    .option("--model-base-url <url>", "an OpenAI-compatible model server for the new instance")
    .option("--model-id <id>", "the model id there")
    .option("--model-api-key-env <var>", "environment variable holding that server's API key")
    .option("--provider-id <id>", "provider name in the OpenClaw config", "custom")
    .option(
      "--set <key=value>",
      "extra `openclaw config set` (repeatable), e.g. discovery.mdns.mode=off",
      collect,
    )
    .option("--start", "start the gateway now and wait until it answers")
    .option("--service", "with --start: install it as a launchd/systemd service instead")
    .option("--config-only", "write openclaw.json directly instead of running openclaw onboard")
    .option("--ready-timeout <seconds>", "how long --start waits for the gateway", parsePositiveInt, 180)
    .option("--json", "machine-readable result")
    .action(async (name: string, opts: Record<string, unknown>) => {
      const { incubate } = await import("./core/ops/incubate.js");
      const settings = ((opts.set as string[] | undefined) ?? []).map((kv): [string, string] => {
        const at = kv.indexOf("=");
        if (at < 1) throw new UserError(`--set ${kv}: write it as key=value.`, { code: "usage" });
        return [kv.slice(0, at), kv.slice(at + 1)];
      });
      let model: { baseUrl: string; id: string; apiKey: string; providerId: string } | undefined;
      if (opts.modelBaseUrl || opts.modelId) {
        if (!opts.modelBaseUrl || !opts.modelId)
          throw new UserError("Give both --model-base-url and --model-id.", { code: "usage" });
        const keyVar = opts.modelApiKeyEnv as string | undefined;
        const apiKey = keyVar ? io.env[keyVar] : "none";
        if (keyVar && !apiKey) throw new UserError(`${keyVar} is not set.`, { code: "usage" });
        model = {
          baseUrl: String(opts.modelBaseUrl),
          id: String(opts.modelId),
          apiKey: apiKey ?? "none",
          providerId: String(opts.providerId),
        };
      }
      const result = await incubate(
        home(),
        io.env,
        {
          name,
          ...(opts.port !== undefined ? { port: opts.port as number } : {}),
          agent: String(opts.agent),
          ...(model ? { model } : {}),
          settings,
          start: Boolean(opts.start),
          service: Boolean(opts.service),
          configOnly: Boolean(opts.configOnly),
          readyTimeoutMs: (opts.readyTimeout as number) * 1000,
        },
        (e) => {
          if (opts.json) return;
          if (e.status === "running") err(`[${e.step}/${e.total}] ${e.title} …`);
          else if (e.status === "warning") err(`  warning: ${sanitizeLine(e.detail ?? e.title)}`);
          else if (e.status === "undone") err(`  ${e.title}`);
          else if (e.status === "failed") err(`  failed — rolling back`);
        },
      );
      if (opts.json) out(JSON.stringify(result, null, 2));
      else {
        out(
          `Node ${result.node} is ready on 127.0.0.1:${result.port}${result.started ? " and running" : ""}.`,
        );
        out(
          result.started
            ? `Try it: clawos dispatch "hello" --to ${result.node} --wait`
            : `Start it with: openclaw --profile ${result.node} gateway run   (then clawos nodes probe ${result.node})`,
        );
      }
    });

  // ── migrate ──────────────────────────────────────────────────────────────
  program
    .command("migrate")
    .description("move a local node to another machine over SSH (or --rollback)")
    .argument("<node>")
    .option("--to <user@host[:port]>", "the SSH target of the new machine")
    .option(
      "--identity <file>",
      "SSH private key (default: ~/.ssh/id_ed25519, id_ecdsa, id_rsa, or the agent)",
    )
    .option("--known-hosts <file>", "known_hosts to verify the host key with (default: ~/.ssh/known_hosts)")
    .option(
      "--remote-port <port>",
      "gateway port there (default: its ssh.remotePort, else the same as here)",
      parsePort,
    )
    .option("--machine <name>", "the new machine's name in the registry (default: the SSH host)")
    .option("--dry-run", "show the plan only")
    .option("--rollback", "undo an earlier migration of this node")
    .option(
      "--ready-timeout <seconds>",
      "how long to wait for the remote gateway (and, on --rollback, the local one)",
      parsePositiveInt,
      180,
    )
    .action(async (nodeId: string, opts: Record<string, unknown>) => {
      const { migrate, rollbackMigration } = await import("./core/ops/node-migration.js");
      const say = (line: string) => out(sanitizeLine(line));
      if (opts.rollback) {
        await rollbackMigration(home(), io.env, nodeId, say, {
          readyTimeoutMs: (opts.readyTimeout as number) * 1000,
        });
        return;
      }
      if (!opts.to) throw new UserError("Say where to: --to user@host[:port].", { code: "usage" });
      await migrate(
        home(),
        io.env,
        {
          node: nodeId,
          to: String(opts.to),
          ...(opts.identity ? { identityFile: String(opts.identity) } : {}),
          ...(opts.knownHosts ? { knownHosts: String(opts.knownHosts) } : {}),
          ...(opts.remotePort !== undefined ? { remotePort: opts.remotePort as number } : {}),
          ...(opts.machine ? { machine: String(opts.machine) } : {}),
          dryRun: Boolean(opts.dryRun),
          readyTimeoutMs: (opts.readyTimeout as number) * 1000,
        },
        say,
      );
    });

  // ── blackboard ───────────────────────────────────────────────────────────
  const blackboardCmd = program
    .command("blackboard")
    .description("the shared store of tasks, results and node status");
  blackboardCmd
    .command("migrate")
    .description("copy every task and node status to NATS JetStream, then switch federation.json to it")
    .option("--to <url>", "nats://host:port of a NATS server (repeatable, or comma-separated)", collect)
    .option("--domain <name>", "JetStream domain of the hub, if this machine's server is a leaf node of it")
    .option("--from <dir>", "the directory blackboard to copy (default: the one federation.json names)")
    .option("--dry-run", "print the plan only; change nothing")
    .option("--json", "machine-readable report")
    .action(
      async (opts: { to?: string[]; domain?: string; from?: string; dryRun?: boolean; json?: boolean }) => {
        if (!opts.to?.length)
          throw new UserError("Say where to: --to nats://host:port.", {
            hint: "start one with: nats-server -js -sd <dir>",
            code: "usage",
          });
        const { migrateBlackboard } = await import("./core/blackboard/driver-migration.js");
        const r = await migrateBlackboard(home(), io.env, {
          to: opts.to,
          ...(opts.domain ? { domain: opts.domain } : {}),
          ...(opts.from ? { from: opts.from } : {}),
          dryRun: Boolean(opts.dryRun),
        });
        if (opts.json) {
          out(JSON.stringify(r, null, 2));
          return;
        }
        const say = (line: string) => out(sanitizeLine(line));
        const f = r.finished;
        say(
          `${r.dryRun ? "Plan (dry run: nothing is changed)" : "Moved"}: the directory blackboard at ${displayPath(r.from, io.env)}`,
        );
        say(`  → NATS at ${r.to.join(", ")}`);
        if (r.reachable)
          say(
            r.reachable.ok
              ? `    reachable, JetStream on (server ${r.reachable.version})`
              : `    NOT reachable: ${r.reachable.error}`,
          );
        say(
          `  ${r.tasks} task(s): ${r.pending} arrive pending${r.wereClaimed ? ` (${r.wereClaimed} ${r.wereClaimed === 1 ? "was" : "were"} claimed: their run is redone, same attempt)` : ""}, ` +
            `${f.completed + f.failed + f.cancelled} finished (${f.completed} completed, ${f.failed} failed, ${f.cancelled} cancelled)`,
        );
        const nodesLine = Object.entries(r.byNode)
          .map(([n, c]) => `${n} ${c}`)
          .join(", ");
        if (nodesLine) say(`  per node: ${nodesLine}`);
        say(`  ${r.nodeStatuses} node status record(s)`);
        for (const p of r.problems) err(`! not copied: ${sanitizeLine(p)}`);
        for (const w of r.liveWorkers)
          err(
            `! the worker of ${sanitizeLine(w)} looks alive: stop it first, or what it does after the copy stays in the directory`,
          );
        if (r.dryRun) {
          say(`  then federation.json: "blackboard": ${JSON.stringify(r.blackboard)}`);
          return;
        }
        say(`  copied ${r.created}, already on NATS ${r.alreadyThere}`);
        say(
          r.switched
            ? `federation.json now uses "blackboard": ${JSON.stringify(r.blackboard)}. The directory was left as it was.`
            : "federation.json already used this NATS blackboard; it is unchanged.",
        );
        if (r.switched)
          say(
            "Restart the workers (clawos node run) and any open control center so they use NATS; one of them takes the coordinator lease by itself.",
          );
      },
    );

  // ── doctor ───────────────────────────────────────────────────────────────
  program
    .command("doctor")
    .description("check everything, one line per finding with its fix")
    .option("--fix", "repair what is safe to repair (token file modes)")
    .option("--json", "machine-readable output")
    .action(async (opts: { fix?: boolean; json?: boolean }) => {
      const { runDoctor } = await import("./core/ops/doctor.js");
      const checks = await runDoctor(home(), io.env, { fix: Boolean(opts.fix) });
      if (opts.json) out(JSON.stringify(checks, null, 2));
      else {
        for (const c of checks) {
          const mark = c.fixed ? "fixed" : c.level === "ok" ? "ok  " : c.level === "warn" ? "warn" : "FAIL";
          out(`${mark}  ${c.area.padEnd(10)} ${sanitizeLine(c.message)}`);
          if (c.fix && c.level !== "ok") out(`      ${"".padEnd(10)} fix: ${sanitizeLine(c.fix)}`);
        }
        const fails = checks.filter((c) => c.level === "fail").length;
        const warns = checks.filter((c) => c.level === "warn").length;
        out(fails || warns ? `${fails} problem(s), ${warns} warning(s).` : "All good.");
      }
      if (checks.some((c) => c.level === "fail")) exitCode = EXIT_TASK_FAILED;
    });

  // ── completion ───────────────────────────────────────────────────────────
  program
    .command("completion")
    .description('print a shell completion script: eval "$(clawos completion bash)"')
    .argument("<shell>", "bash or zsh")
    .action((shell: string) => {
      if (shell !== "bash" && shell !== "zsh")
        throw new UserError(`No completion for "${sanitizeLine(shell).slice(0, 20)}".`, {
          hint: "use bash or zsh",
          code: "usage",
        });
      out(completionScript(program, shell));
    });

  // ── serve ────────────────────────────────────────────────────────────────
  program
    .command("serve")
    .description("serve the control center over SSH (public-key auth only)")
    .option("--ssh <host:port>", "where to listen", "127.0.0.1:2222")
    .option("--authorized-keys <file>", "public keys allowed in (default: ~/.ssh/authorized_keys)")
    .option(
      "--host-key <file>",
      "the server's host key, made on first run (default: <home>/serve/ssh_host_ed25519_key)",
    )
    .option("--readonly", "sessions can watch but not dispatch, retry or cancel")
    .option("--max-sessions <n>", "control centers open at once", parsePositiveInt, 20)
    .option("--login-grace-time <seconds>", "time a connection has to log in", parsePositiveInt, 20)
    .action(
      async (opts: {
        ssh: string;
        authorizedKeys?: string;
        hostKey?: string;
        readonly?: boolean;
        maxSessions: number;
        loginGraceTime: number;
      }) => {
        const { serveSsh } = await import("./serve/serve-command.js");
        exitCode = await serveSsh({
          home: home(),
          env: io.env,
          listen: opts.ssh,
          ...(opts.authorizedKeys ? { authorizedKeys: opts.authorizedKeys } : {}),
          ...(opts.hostKey ? { hostKey: opts.hostKey } : {}),
          readonly: Boolean(opts.readonly),
          maxSessions: opts.maxSessions,
          loginGraceSeconds: opts.loginGraceTime,
          out,
          err,
        });
      },
    );

  nodeCmd
    .command("install-service")
    .description("run the worker as a systemd user unit (Linux) or launchd agent (macOS)")
    .option("--node <id>", "serve only this node (repeatable)", collect)
    .option("--print", "show the file instead of installing it")
    .option("--uninstall", "stop and remove it")
    .action(async (opts: { node?: string[]; print?: boolean; uninstall?: boolean }) => {
      const { installService, serviceFile, uninstallService } = await import("./core/ops/worker-service.js");
      const file = serviceFile({
        platform: process.platform,
        home: home(),
        nodeBin: process.execPath,
        cliBin: serviceCliPath(process.argv[1]),
        nodes: opts.node ?? [],
        env: io.env,
      });
      if (opts.print) {
        out(`# ${file.path}`);
        out(file.content);
        return;
      }
      const notes = opts.uninstall ? await uninstallService(file) : await installService(file);
      for (const n of notes) out(n);
    });

  // ── init ─────────────────────────────────────────────────────────────────
  program
    .command("init")
    .description("find local OpenClaw profiles (~/.openclaw, ~/.openclaw-*) and register them as nodes")
    .option("--json", "machine-readable output")
    .action(async (opts: { json?: boolean }) => {
      const report = await registerLocalProfiles(home(), io.env);
      const core = await openCore(); // creates the blackboard directories
      await core.close();
      if (opts.json) {
        out(JSON.stringify(report, null, 2));
        return;
      }
      for (const n of report.notes) out(n);
      out(
        `Config: ${displayPath(report.configPath, io.env)} (${report.totalNodes} node(s)). Next: clawos status`,
      );
    });

  try {
    // Without this, an unknown word would reach the default command as an argument.
    const first = argv[0];
    if (
      first &&
      !first.startsWith("-") &&
      !program.commands.some((c) => c.name() === first || c.aliases().includes(first))
    ) {
      err(`clawos: unknown command '${sanitizeLine(first).slice(0, 40)}' (clawos --help lists the commands)`);
      return EXIT_USAGE;
    }
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.code === "commander.help"
      )
        return EXIT_OK;
      return EXIT_USAGE;
    }
    if (error instanceof UserError) {
      err(`clawos: ${describeError(error)}`);
      return error.exitCode;
    }
    err(`clawos: ${error instanceof Error ? error.message : String(error)}`);
    if (io.env.CLAWOS_DEBUG && error instanceof Error && error.stack) err(error.stack);
    else err("  (unexpected; set CLAWOS_DEBUG=1 to see where it happened)");
    return EXIT_TASK_FAILED;
  }
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

/** Built from the command tree itself, so it never drifts from the real commands. */
function completionScript(program: Command, shell: "bash" | "zsh"): string {
  const words = (cmd: Command) => [
    ...cmd.commands.filter((c) => c.name() !== "help").map((c) => c.name()),
    ...cmd.options.map((o) => o.long).filter((o): o is string => Boolean(o)),
  ];
  const cases = program.commands
    .filter((c) => c.commands.length || c.options.length)
    .map((c) => `    ${c.name()}) words="${words(c).join(" ")}" ;;`)
    .join("\n");
  const body = `_clawos_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" sub="\${COMP_WORDS[1]}" words
  if [ "$COMP_CWORD" -eq 1 ]; then
    words="${words(program).join(" ")}"
  else
    case "$sub" in
${cases}
      *) words="" ;;
    esac
  fi
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}`;
  return shell === "bash"
    ? `# clawos bash completion\n${body}\ncomplete -F _clawos_complete clawos`
    : `# clawos zsh completion\nautoload -U +X bashcompinit && bashcompinit\n${body}\ncomplete -F _clawos_complete clawos`;
}
