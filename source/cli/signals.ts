/**
 * How a command ends: the exit-code table every command uses, the words core's coded errors
 * map to, and the one path from a stop signal to an AbortController.
 *
 * This module loads before everything else in `bin.ts`: it imports nothing.
 */

/** Every exit code the CLI uses. */
export const EXIT = {
  ok: 0,
  /** A task failed, a check failed, or something unexpected happened. */
  failed: 1,
  /** Nothing was done: a usage or configuration matter the user can fix. */
  usage: 2,
  /** EX_TEMPFAIL: start again (a worker whose federation.json changed, without execve). */
  restart: 75,
  /** 128 + SIGINT, as shells report a program stopped by Ctrl+C. */
  interrupted: 130,
  /** 128 + SIGTERM. */
  terminated: 143,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The exit code of a `UserError` by its code. A code not listed is a problem the user can
 * fix before anything happened: `EXIT.usage`.
 */
const EXIT_BY_ERROR_CODE: Readonly<Record<string, ExitCode>> = {
  // Stopped by a signal before anything was queued (core cannot tell SIGINT from SIGTERM).
  interrupted: EXIT.interrupted,
  terminated: EXIT.terminated,
  // A wait ended early (Ctrl+C on a plain wait, or --timeout); the task goes on without us.
  stopped_waiting: EXIT.failed,
  timed_out: EXIT.failed,
};

export function exitCodeForError(code: string): ExitCode {
  return EXIT_BY_ERROR_CODE[code] ?? EXIT.usage;
}

/** A command's way to stop early on SIGINT or SIGTERM. */
export interface StopSignal {
  /** Aborted by the first stop signal. */
  readonly signal: AbortSignal;
  /** What the last signal asks the process to exit with: 130 (SIGINT) or 143 (SIGTERM). */
  readonly exitCode: ExitCode;
  /** Stop listening. */
  dispose(): void;
}

const EXIT_BY_SIGNAL: Partial<Record<NodeJS.Signals, ExitCode>> = {
  SIGINT: EXIT.interrupted,
  SIGTERM: EXIT.terminated,
};

/**
 * Listens for stop signals and aborts `signal` on the first. By default each signal is heard
 * once, so a second Ctrl+C gets Node's default (the process dies) when stopping hangs;
 * `keepListening` keeps them away from the default handler until `dispose()` (the control
 * center restores the terminal first). A closed stdout arrives here as SIGTERM (see
 * `stopOnClosedPipe`).
 */
export function stopOnSignals(
  signals: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM"],
  options: { keepListening?: boolean } = {},
): StopSignal {
  const controller = new AbortController();
  let exitCode: ExitCode = EXIT.interrupted;
  const onSignal = (signal: NodeJS.Signals) => {
    exitCode = EXIT_BY_SIGNAL[signal] ?? EXIT.interrupted;
    controller.abort();
  };
  for (const s of signals) {
    if (options.keepListening) process.on(s, onSignal);
    else process.once(s, onSignal);
  }
  return {
    signal: controller.signal,
    get exitCode() {
      return exitCode;
    },
    dispose: () => {
      for (const s of signals) process.off(s, onSignal);
    },
  };
}

/**
 * `clawos status | head` closes our stdout early: the reader's choice, not an error to
 * report. A command still at work (a dispatch running a task, a worker) is stopped the way
 * SIGTERM stops it, so a task it runs is handed back rather than left claimed; anything else
 * just ends.
 */
export function stopOnClosedPipe(streams: readonly NodeJS.WriteStream[]): void {
  let pipeClosed = false;
  for (const stream of streams) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
      stream.write = () => true; // nobody reads it any more
      if (pipeClosed) return;
      pipeClosed = true;
      if (process.listenerCount("SIGTERM") > 0) process.emit("SIGTERM", "SIGTERM");
      else process.exit(process.exitCode ?? 0);
    });
  }
}
