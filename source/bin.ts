#!/usr/bin/env node
import module from "node:module";
import { isLongRunning, restartWithCompactHeap } from "./long-running-heap.js";

// The control center and `serve` restart once with a smaller young generation (see the module).
if (isLongRunning(process.argv.slice(2))) restartWithCompactHeap();
// Cache compiled modules between runs: a one-shot command spends most of its time loading code.
module.enableCompileCache?.();
// `clawos status | head` closes our stdout early: the reader's choice, not an error to report.
// A command still at work (a dispatch running a task, a worker) is stopped the way SIGTERM
// stops it, so a task it runs is handed back rather than left claimed; anything else just ends.
let pipeClosed = false;
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    stream.write = () => true; // nobody reads it any more
    if (pipeClosed) return;
    pipeClosed = true;
    if (process.listenerCount("SIGTERM") > 0) process.emit("SIGTERM", "SIGTERM");
    else process.exit(process.exitCode ?? 0);
  });
}
const { runCli } = await import("./cli.js");

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
process.exitCode = code;
