#!/usr/bin/env -S node --max-semi-space-size=4 --max-old-space-size=512
import module from "node:module";
import { homedir } from "node:os";
import { join } from "node:path";
import { stopOnClosedPipe } from "./cli/signals.js";
import { isLongRunning, restartWithCompactHeap } from "./long-running-heap.js";

// The heap flags above come with the shebang, so `clawos` starts once. Started as
// `node bin.js` (npm start, the tests), the control center and `serve` restart once with them.
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
