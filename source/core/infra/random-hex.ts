/**
 * `randomBytes(bytes).toString("hex")`, with node:crypto loaded on first use: loading it (and an
 * ES import's reading of every export) costs ~8 ms of a one-shot command such as `clawos status`,
 * which names no file and makes no id.
 */
export function randomHex(bytes: number): string {
  return process.getBuiltinModule("node:crypto").randomBytes(bytes).toString("hex");
}
