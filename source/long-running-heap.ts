/**
 * A smaller young generation for the long-running, interactive processes (the control
 * center and `clawos serve`).
 *
 * V8 sizes the young generation from the machine's memory (64 MB semi-spaces on a 24 GB
 * machine) while the control center's live heap is ~30 MB: RSS settled near 300 MB and each
 * scavenge of a big nursery showed up as a slow frame. With 8 MB semi-spaces the same load
 * holds ~150 MB and the frame tail shrinks (bench/RESULTS-tui.md). The flag only works from
 * the command line, so the process replaces itself (execve, same pid, same terminal) before
 * any other module is loaded. Node without process.execve (before 23.11) runs on unchanged.
 */
const FLAG = "--max-semi-space-size";
const SEMI_SPACE_MB = 8;

/** Commands that stay up for hours: the default (no command), `tui` and `serve`. */
export function isLongRunning(args: readonly string[]): boolean {
  const command = args.find((arg, i) => !arg.startsWith("-") && args[i - 1] !== "--home");
  return command === undefined || command === "tui" || command === "serve";
}

/** Replace this process with itself plus the flag (same script and arguments), unless it has the flag. */
export function restartWithSmallYoungGeneration(): void {
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never })
    .execve;
  if (!execve) return;
  if (process.execArgv.some((a) => a.startsWith(FLAG))) return;
  if (`${process.env.NODE_OPTIONS ?? ""}`.includes(FLAG)) return;
  const script = process.argv[1];
  if (!script) return;
  execve.call(
    process,
    process.execPath,
    [process.execPath, `${FLAG}=${SEMI_SPACE_MB}`, ...process.execArgv, script, ...process.argv.slice(2)],
    process.env,
  );
}
