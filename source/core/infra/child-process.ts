/**
 * node:child_process, loaded on first use: loading it (with dgram and the socket list) costs
 * ~2 ms of a one-shot command, and `clawos status` usually starts no process at all.
 */
export const childProcess = (): typeof import("node:child_process") =>
  process.getBuiltinModule("node:child_process");
