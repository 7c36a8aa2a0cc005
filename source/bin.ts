#!/usr/bin/env node
import module from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";
import { stopOnClosedPipe } from "./cli/signals.js";
import { isLongRunning, restartWithCompactHeap } from "./long-running-heap.js";

// The control center and `serve` restart once with a compact heap (see the module). The flags
// are not in the shebang: BusyBox's `env` has no `-S`, and flags there would cap every
// one-shot command's heap and override the user's NODE_OPTIONS.
if (isLongRunning(process.argv.slice(2))) restartWithCompactHeap();
// Cache compiled modules between runs, in the user's cache directory (not a shared /tmp): a
// one-shot command spends most of its time loading code. NODE_COMPILE_CACHE, when set, wins.
try {
  module.enableCompileCache?.(
    process.env.NODE_COMPILE_CACHE ||
      join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "clawos", "compile-cache"),
  );
} catch {
  // No cache (an unwritable home, say) only costs speed.
}
stopOnClosedPipe([process.stdout, process.stderr]);
const { runCli } = await import("./cli/index.js");

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  ...(process.argv[1] ? { script: process.argv[1] } : {}),
});
process.exitCode = code;
