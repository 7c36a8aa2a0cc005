import { Command, CommanderError } from "commander";
import { describeError, UserError } from "../core/domain/errors.js";
import { resolveHome } from "../core/infra/paths.js";
import { sanitizeLine, sanitizeText } from "../core/infra/sanitize.js";
import { VERSION } from "../core/infra/version.js";
import { forInvocation, setInvocation } from "../present/invocation.js";
import { type CliIo, createContext, type RegisterCommand } from "./context.js";
import { detectInvocation } from "./invocation.js";
import { EXIT, exitCodeForError } from "./signals.js";

export type { CliIo } from "./context.js";

type CommandModule = { register: RegisterCommand };

/**
 * In this order in `clawos --help` and the completion script, with the words each registers.
 * A command's module (and what it imports) loads only when that command runs, or for the
 * help and the completion script, which list them all: a one-shot command loads its own code.
 */
const COMMANDS: readonly (readonly [words: readonly string[], load: () => Promise<CommandModule>])[] = [
  [["tui"], () => import("./commands/tui.js")],
  [["status"], () => import("./commands/status.js")],
  [["dispatch"], () => import("./commands/dispatch.js")],
  [["tasks"], () => import("./commands/tasks.js")],
  [["nodes"], () => import("./commands/nodes.js")],
  [["node"], () => import("./commands/node-run.js")],
  [["logs"], () => import("./commands/logs.js")],
  [["watch"], () => import("./commands/watch.js")],
  [["incubate"], () => import("./commands/incubate.js")],
  [["migrate"], () => import("./commands/migrate.js")],
  [["blackboard"], () => import("./commands/blackboard.js")],
  [["doctor"], () => import("./commands/doctor.js")],
  [["completion", "__complete"], () => import("./commands/completion.js")],
  [["serve"], () => import("./commands/serve.js")],
  [["audit"], () => import("./commands/audit.js")],
  [["init"], () => import("./commands/init.js")],
  [["join"], () => import("./commands/join.js")],
];

/** The modules this command line needs: its command's, all of them for help, none for the version. */
function commandsFor(argv: readonly string[]): readonly (typeof COMMANDS)[number][] {
  const word = argv.find((arg, i) => !arg.startsWith("-") && argv[i - 1] !== "--home");
  const asks = (...flags: string[]) => argv.some((arg) => flags.includes(arg));
  if (word === undefined) {
    if (asks("-h", "--help")) return COMMANDS;
    return asks("-V", "--version") ? [] : COMMANDS.slice(0, 1);
  }
  const own = COMMANDS.filter(([words]) => words.includes(word));
  // The completion script walks every command; a word no command has is commander's to refuse.
  return word === "completion" || own.length === 0 ? COMMANDS : own;
}

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
  // Every hint from here on names the command the way this user runs it.
  setInvocation(
    detectInvocation(io.env, io.script),
    COMMANDS.flatMap(([words]) => words),
  );

  try {
    // Without this, an unknown word would reach the default command as an argument.
    const first = argv[0];
    if (first && !first.startsWith("-") && !COMMANDS.some(([words]) => words.includes(first))) {
      ctx.err(
        `clawos: unknown command '${sanitizeLine(first).slice(0, 40)}' (clawos --help lists the commands)`,
      );
      return EXIT.usage;
    }
    const modules = await Promise.all(commandsFor(argv).map(([, load]) => load()));
    for (const command of modules) command.register(program, ctx);
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
