#!/usr/bin/env node
import module from "node:module";

// Cache compiled modules between runs: a one-shot command spends most of its time loading code.
module.enableCompileCache?.();
const { runCli } = await import("./cli.js");

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
});
process.exitCode = code;
