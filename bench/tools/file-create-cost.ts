/**
 * What creating, renaming and unlinking a small file costs in a directory: 300 of each,
 * synchronously, in a fresh subdirectory of DIR. Shows whether a disk (or the machine's
 * state) makes the blackboard's file creations slow (BENCHMARKS.md, rounds 2 and 3).
 *
 * With --churn N it then creates (and with --fsync flushes) and unlinks one file N times (the
 * same name each time, nothing kept) in a scratch directory under the first DIR, and measures
 * again: on the VM in BENCHMARKS.md that churn alone makes every later create on the whole
 * filesystem slower, until the kernel's page cache is dropped.
 *
 *   node dist/bench/tools/file-create-cost.js [--churn N [--fsync]] [DIR ...]   (default DIR: the temp directory)
 */
import {
  closeSync,
  fdatasyncSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchArgsAndPaths } from "../lib.js";

const { values, positionals } = benchArgsAndPaths({
  churn: { type: "string", default: "0" },
  fsync: { type: "boolean", default: false },
});
const N = 300;
const CHURN = Number(values.churn);
const bases = positionals.length ? positionals : [tmpdir()];

const perOp = (body: (i: number) => void): string => {
  const start = performance.now();
  for (let i = 0; i < N; i++) body(i);
  return `${Math.round(((performance.now() - start) / N) * 1000)} µs`;
};

function measure(label: string): void {
  for (const base of bases) {
    const dir = mkdtempSync(join(base, "clawos-create-cost-"));
    try {
      const create = perOp((i) => closeSync(openSync(join(dir, `${i}.tmp`), "wx")));
      const unlink = perOp((i) => unlinkSync(join(dir, `${i}.tmp`)));
      const write = perOp((i) => writeFileSync(join(dir, `${i}.x`), "a"));
      const rename = perOp((i) => renameSync(join(dir, `${i}.x`), join(dir, `${i}.y`)));
      console.log(
        `${label}${base}: create ${create}, unlink ${unlink}, create+write ${write}, rename ${rename}`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

if (CHURN > 0) {
  measure("before churn  ");
  const scratch = mkdtempSync(join(bases[0]!, "clawos-churn-"));
  const started = performance.now();
  try {
    for (let i = 0; i < CHURN; i++) {
      const fd = openSync(join(scratch, "churn.tmp"), "wx");
      writeSync(fd, "x".repeat(512));
      if (values.fsync) fdatasyncSync(fd);
      closeSync(fd);
      unlinkSync(join(scratch, "churn.tmp"));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(
    `(created${values.fsync ? ", flushed" : ""} and unlinked one file ${CHURN} times in ${Math.round(performance.now() - started)} ms)`,
  );
  measure("after churn   ");
} else {
  measure("");
}
