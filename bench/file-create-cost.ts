/**
 * What creating, renaming and unlinking a small file costs in a directory: 300 of each,
 * synchronously, in a fresh subdirectory of DIR. Shows whether a disk (or one worn
 * directory tree on it) makes the blackboard's file creations slow (BENCHMARKS.md, round 2).
 *
 *   node dist/bench/file-create-cost.js [DIR ...]      (default: the temp directory)
 */
import { closeSync, mkdtempSync, openSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const N = 300;
const perOp = (body: (i: number) => void): string => {
  const start = performance.now();
  for (let i = 0; i < N; i++) body(i);
  return `${Math.round(((performance.now() - start) / N) * 1000)} µs`;
};

for (const base of process.argv.length > 2 ? process.argv.slice(2) : [tmpdir()]) {
  const dir = mkdtempSync(join(base, "clawos-create-cost-"));
  try {
    const create = perOp((i) => closeSync(openSync(join(dir, `${i}.tmp`), "wx")));
    const unlink = perOp((i) => unlinkSync(join(dir, `${i}.tmp`)));
    const write = perOp((i) => writeFileSync(join(dir, `${i}.x`), "a"));
    const rename = perOp((i) => renameSync(join(dir, `${i}.x`), join(dir, `${i}.y`)));
    console.log(`${base}: create ${create}, unlink ${unlink}, create+write ${write}, rename ${rename}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
