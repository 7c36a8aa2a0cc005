#!/usr/bin/env node
import module from "node:module";
import { stopOnClosedPipe } from "./cli/signals.js";
import { isLongRunning, restartWithCompactHeap } from "./long-running-heap.js";

// The control center and `serve` restart once with a smaller young generation (see the module).
if (isLongRunning(process.argv.slice(2))) restartWithCompactHeap();
// Cache compiled modules between runs: a one-shot command spends most of its time loading code.
module.enableCompileCache?.();
stopOnClosedPipe([process.stdout, process.stderr]);
const { runCli } = await import("./cli/index.js");

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
process.exitCode = code;
