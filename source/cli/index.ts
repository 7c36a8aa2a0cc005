import { Command, CommanderError } from "commander";
import { describeError, UserError } from "../core/domain/errors.js";
import { resolveHome } from "../core/infra/paths.js";
import { sanitizeLine, sanitizeText } from "../core/infra/sanitize.js";
import { VERSION } from "../core/infra/version.js";
import { forInvocation, setInvocation } from "../present/invocation.js";
import * as audit from "./commands/audit.js";
import * as blackboard from "./commands/blackboard.js";
import * as completion from "./commands/completion.js";
import * as dispatch from "./commands/dispatch.js";
import * as doctor from "./commands/doctor.js";
import * as incubate from "./commands/incubate.js";
import * as init from "./commands/init.js";
import * as join from "./commands/join.js";
import * as logs from "./commands/logs.js";
import * as migrate from "./commands/migrate.js";
import * as nodeRun from "./commands/node-run.js";
import * as nodes from "./commands/nodes.js";
import * as serve from "./commands/serve.js";
import * as status from "./commands/status.js";
import * as tasks from "./commands/tasks.js";
import * as tui from "./commands/tui.js";
import * as watch from "./commands/watch.js";
import { type CliIo, createContext, type RegisterCommand } from "./context.js";
import { detectInvocation } from "./invocation.js";
import { EXIT, exitCodeForError } from "./signals.js";

export type { CliIo } from "./context.js";

/** In this order in `clawos --help` and the completion script. */
const COMMANDS: readonly { register: RegisterCommand }[] = [
  tui,
  status,
  dispatch,
  tasks,
  nodes,
  nodeRun,
  logs,
  watch,
  incubate,
  migrate,
  blackboard,
  doctor,
  completion,
  serve,
  audit,
  init,
  join,
];

/** Runs one command line; returns the exit code. Never calls process.exit itself. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const program = new Command("clawos")
    .description("Control center for a federation of OpenClaw gateways")
    .version(VERSION, "-V, --version")
    .option("--home <dir>", "federation home (default: $CLAWOS_HOME or ~/.openclaw/clawos)")
    .showHelpAfterError("(clawos --help shows the commands)")
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(forInvocation(sanitizeText(s))),
    })
    .exitOverride();

  // Only the one action that runs sets it.
  let exitCode: number = EXIT.ok;
  const ctx = createContext(
    io,
    () => resolveHome(program.opts<{ home?: string }>().home, io.env),
    (code) => {
      exitCode = code;
    },
  );
  for (const command of COMMANDS) command.register(program, ctx);
  // Every hint from here on names the command the way this user runs it.
  setInvocation(
    detectInvocation(io.env, io.script),
    program.commands.flatMap((c) => [c.name(), ...c.aliases()]),
  );

  try {
    // Without this, an unknown word would reach the default command as an argument.
    const first = argv[0];
    if (
      first &&
      !first.startsWith("-") &&
      !program.commands.some((c) => c.name() === first || c.aliases().includes(first))
    ) {
      ctx.err(
        `clawos: unknown command '${sanitizeLine(first).slice(0, 40)}' (clawos --help lists the commands)`,
      );
      return EXIT.usage;
    }
    await program.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    return exitCodeForFailure(error, ctx.err, io.env);
  }
}

/** Says what went wrong (one or two lines; a stack only with CLAWOS_DEBUG) and picks the exit code. */
function exitCodeForFailure(error: unknown, err: (text: string) => void, env: NodeJS.ProcessEnv): number {
  if (error instanceof CommanderError) {
    if (
      error.code === "commander.helpDisplayed" ||
      error.code === "commander.version" ||
      error.code === "commander.help"
    )
      return EXIT.ok;
    return EXIT.usage;
  }
  if (error instanceof UserError) {
    err(`clawos: ${describeError(error)}`);
    return exitCodeForError(error.code);
  }
  err(`clawos: ${error instanceof Error ? error.message : String(error)}`);
  if (env.CLAWOS_DEBUG && error instanceof Error && error.stack) err(error.stack);
  else err("  (unexpected; set CLAWOS_DEBUG=1 to see where it happened)");
  return EXIT.failed;
}
