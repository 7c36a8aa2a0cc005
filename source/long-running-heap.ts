/**
 * A compact heap for the long-running, interactive processes (the control center and
 * `clawos serve`).
 *
 * V8 sizes the heap from the machine's memory while the control center's live heap is
 * ~30 MB with 10 000 tasks (BENCHMARKS.md, "Control center"):
 *  - the young generation: 64 MB semi-spaces on a 24 GB machine. RSS settled near 300 MB
 *    and each scavenge of a big nursery showed up as a slow frame. 8 MB semi-spaces held
 *    ~160 MB; 4 MB ones hold ~12 MB less again (the UI allocates little per frame now)
 *    for ~0.5 ms more CPU per frame in scavenges.
 *  - the old generation: V8 lets it grow by up to 4× what survived the last full
 *    collection when the heap limit is 2 GB or more (the default here is larger), and
 *    by less the smaller the limit: ~1.4× at 512 MB. Measured with 8 MB semi-spaces: RSS
 *    161-168 MB with the default limit, 148-150 MB with 512 MB, the same CPU. With both
 *    flags: 135-139 MB. 512 MB is still 15 times the live heap at 10 000 tasks (the
 *    live facade lists at most 2 000 finished ones).
 *  - glibc's malloc: each thread that allocates gets an arena of its own, and the pages it
 *    touched stay with it (Node's four V8 workers, libuv's four file threads).
 *    `MALLOC_ARENA_MAX=2`, set for the restarted process when the user has not set it (glibc
 *    reads it at start), took 2-3 MB off the idle control center's RSS and ~4 MB under load,
 *    the same CPU (BENCHMARKS.md, "Control center memory, round 5"). The processes it starts
 *    inherit it.
 * V8 reads the flags only at start, so the process replaces itself (execve, same pid, same
 * terminal) before any other module is loaded: a second Node start. A flag the user gave
 * (on the command line or in NODE_OPTIONS) is left as it is. Node without process.execve
 * (before 23.11) runs on unchanged.
 */
import { accessSync, constants } from "node:fs";

const HEAP_FLAGS: readonly (readonly [flag: string, megabytes: number])[] = [
  ["--max-semi-space-size", 4],
  ["--max-old-space-size", 512],
];

/** Commands that stay up for hours: the default (no command), `tui` and `serve`. */
export function isLongRunning(args: readonly string[]): boolean {
  // Help and version print and exit: no second start for them.
  if (args.some((arg) => arg === "-h" || arg === "--help" || arg === "-V" || arg === "--version"))
    return false;
  const command = args.find((arg, i) => !arg.startsWith("-") && args[i - 1] !== "--home");
  return command === undefined || command === "tui" || command === "serve";
}

/** The heap flags neither the command line (`execArgv`) nor NODE_OPTIONS sets. */
export function missingHeapFlags(execArgv: readonly string[], nodeOptions = ""): string[] {
  // Node accepts underscores for dashes in V8 flags.
  const spelled = (text: string) => text.replaceAll("_", "-");
  const given = (flag: string) =>
    execArgv.some((a) => spelled(a).startsWith(flag)) || spelled(nodeOptions).includes(flag);
  return HEAP_FLAGS.filter(([flag]) => !given(flag)).map(([flag, mb]) => `${flag}=${mb}`);
}

/** The malloc setting the restarted process gets: fewer arenas, unless the user chose. */
export function compactMallocEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return env.MALLOC_ARENA_MAX === undefined ? { ...env, MALLOC_ARENA_MAX: "2" } : env;
}

/** Replace this process with itself plus the missing heap flags (same script and arguments). */
export function restartWithCompactHeap(): void {
  const missing = missingHeapFlags(process.execArgv, process.env.NODE_OPTIONS ?? "");
  if (missing.length > 0) replaceProcess(missing, compactMallocEnv(process.env));
}

/**
 * Start this same command again in place (execve: same pid, terminal, stdio and service
 * unit), with `extraFlags` for Node. Returns false where that is impossible (Node before
 * 23.11, or no script path); on success it does not return.
 */
export function replaceProcess(extraFlags: readonly string[] = [], env = process.env): boolean {
  const execve = (process as { execve?: (file: string, args: string[], env: NodeJS.ProcessEnv) => never })
    .execve;
  const script = process.argv[1];
  if (!execve || !script) return false;
  // A failed execve aborts Node with a native stack trace; an upgrade may have removed either file.
  try {
    accessSync(process.execPath, constants.X_OK);
    accessSync(script, constants.R_OK);
  } catch {
    return false;
  }
  execve.call(
    process,
    process.execPath,
    [process.execPath, ...extraFlags, ...process.execArgv, script, ...process.argv.slice(2)],
    env,
  );
  return true;
}
