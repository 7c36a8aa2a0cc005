import type { Command } from "commander";
import type { Action } from "../core/domain/roles.js";
import type { FederationCore } from "../core/federation/federation.js";
import { sanitizeText } from "../core/infra/sanitize.js";
import { forInvocation } from "../present/invocation.js";
import { wrapProse } from "../present/prose.js";
import type { ExitCode } from "./signals.js";

export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /** The script the process runs (process.argv[1]): how the user started the CLI, for its hints. */
  script?: string;
}

/** What a command's action ends with: its exit code (from `EXIT`), or nothing for `EXIT.ok`. */
// biome-ignore lint/suspicious/noConfusingVoidType: an action with no return statement returns void
export type ActionResult = ExitCode | number | void;

/** Everything a command needs from the process, injected so a command never reaches for globals. */
export interface CliContext {
  readonly io: CliIo;
  /** A line (or block) to stdout. */
  out(text: string): void;
  /**
   * Prose to stdout (a result in words, a hint): its commands named the way the user runs the
   * CLI, wrapped between words at the terminal's width. Not for tables, JSON or replies.
   */
  say(text: string, options?: { hang?: number }): void;
  /**
   * A message to stderr, sanitized (messages quote what the user typed: a node id, a tag), its
   * commands named the way the user runs the CLI, wrapped between words at the terminal's width.
   */
  err(text: string): void;
  /** The federation home: --home, else $CLAWOS_HOME, else the default. */
  home(): string;
  /** The terminal's width when stdout is one (tables then fit it); none for a pipe or file. */
  terminalColumns(): { columns?: number };
  openCore(options?: { quarantine?: boolean }): Promise<FederationCore>;
  /** Opens the core for `fn` and closes it however `fn` ends. */
  withCore<T>(fn: (core: FederationCore) => Promise<T>, options?: { quarantine?: boolean }): Promise<T>;
  /**
   * Wraps a command's action: what it returns is the exit code of this run. Commander drops an
   * action's return value, so this is the one place it is kept.
   */
  action<A extends unknown[]>(
    fn: (...args: A) => Promise<ActionResult> | ActionResult,
  ): (...args: A) => Promise<void>;
  /** Run an action that changes something and append how it went to the audit log (a non-zero exit is "failed"). */
  audited(action: Action, target: string, fn: () => Promise<ActionResult>): Promise<ActionResult>;
}

/** What each `commands/<name>.ts` exports. */
export type RegisterCommand = (program: Command, ctx: CliContext) => void;

export function createContext(io: CliIo, home: () => string, onExitCode: (code: number) => void): CliContext {
  // The core (and the audit log) load on first use: `clawos --version` or `--help` needs neither.
  const openCore = async (options: { quarantine?: boolean } = {}) => {
    const { FederationCore } = await import("../core/federation/federation.js");
    return FederationCore.open(home(), { env: io.env, ...options });
  };
  const line = (text: string) => (text.endsWith("\n") ? text : `${text}\n`);
  const err = (text: string) => io.stderr.write(line(prose(sanitizeText(text), io.stderr)));
  return {
    io,
    out: (text) => io.stdout.write(line(text)),
    say: (text, options) => io.stdout.write(line(prose(text, io.stdout, options?.hang))),
    err,
    home,
    terminalColumns: () => {
      const stdout = io.stdout as NodeJS.WriteStream;
      return stdout.isTTY && stdout.columns ? { columns: stdout.columns } : {};
    },
    openCore,
    withCore: async (fn, options = {}) => {
      const core = await openCore(options);
      if (core.upgradeNote) err(core.upgradeNote);
      try {
        return await fn(core);
      } finally {
        await core.close();
      }
    },
    audited: async (action, target, fn) => {
      const { audited, localActor } = await import("../core/infra/audit-log.js");
      return audited(
        home(),
        localActor(io.env),
        action,
        target,
        async () => {
          const code = await fn();
          if (typeof code === "number" && code !== 0) throw new ExitedWith(code);
          return code;
        },
        (said) => err(`clawos: ${said}`),
      ).catch((error: unknown) => {
        if (error instanceof ExitedWith) return error.code;
        throw error;
      });
    },
    action:
      (fn) =>
      async (...args) => {
        const code = await fn(...args);
        if (typeof code === "number") onExitCode(code);
      },
  };
}

/**
 * Prose for a stream: a terminal gets it wrapped at its width. A pipe or a file gets whole
 * lines, one statement a line, to be searched for (tables fit 80 columns there; prose is
 * wrapped by whoever shows it).
 */
function prose(text: string, stream: NodeJS.WritableStream, hang?: number): string {
  const named = forInvocation(text);
  const tty = stream as NodeJS.WriteStream;
  return tty.isTTY && tty.columns ? wrapProse(named, tty.columns, hang === undefined ? {} : { hang }) : named;
}

/** A command that ended with a non-zero exit code without throwing: "failed" in the audit log. */
class ExitedWith extends Error {
  constructor(readonly code: number) {
    super(`exit code ${code}`);
  }
}
