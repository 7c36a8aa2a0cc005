import assert from "node:assert/strict";
import { appendFile, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { TaskResult } from "../../../../source/core/domain/schema.js";
import { localDay } from "../../../../source/core/domain/usage.js";
import { readLocalUsage, recordUsage } from "../../../../source/core/infra/usage-ledger.js";

const result = (id: string, fields: Partial<TaskResult> = {}): TaskResult => ({
  schema: "clawos.result/1",
  id,
  attempt: 1,
  node: "alpha",
  status: "completed",
  finishedAt: new Date().toISOString(),
  model: "openclaw/main",
  usage: { prompt: 10, completion: 5 },
  ...fields,
});

describe("usage ledger", () => {
  const homes: string[] = [];
  after(async () => {
    for (const home of homes) await rm(home, { recursive: true, force: true });
  });
  const newHome = async () => {
    const home = await mkdtemp(join(tmpdir(), "clawos-usage-"));
    homes.push(home);
    return home;
  };

  test("completed turns with usage are summed per node; others record nothing", async () => {
    const home = await newHome();
    await recordUsage(home, result("req_20260302_120000_00000001"));
    await recordUsage(home, result("req_20260302_120000_00000002", { usage: { prompt: 1, completion: 2 } }));
    await recordUsage(home, result("req_20260302_120000_00000003", { usage: undefined }));
    await recordUsage(home, result("req_20260302_120000_00000004", { status: "failed" }));
    await recordUsage(home, result("req_20260302_120000_00000005", { node: "beta", model: undefined }));
    const usage = await readLocalUsage(home);
    assert.deepEqual(usage.get("alpha"), [
      { day: localDay(new Date()), model: "openclaw/main", prompt: 11, completion: 7, tasks: 2 },
    ]);
    assert.deepEqual(usage.get("beta"), [{ day: localDay(new Date()), prompt: 10, completion: 5, tasks: 1 }]);
  });

  test("a ledger removed while this process records is made again by the next turn", async () => {
    const home = await newHome();
    await recordUsage(home, result("req_20260302_120000_00000011"));
    await rm(join(home, "run", "usage"), { recursive: true, force: true });
    await recordUsage(home, result("req_20260302_120000_00000012", { usage: { prompt: 3, completion: 4 } }));
    const usage = await readLocalUsage(home);
    assert.deepEqual(usage.get("alpha"), [
      { day: localDay(new Date()), model: "openclaw/main", prompt: 3, completion: 4, tasks: 1 },
    ]);
    const file = join(home, "run", "usage", "alpha", `${localDay(new Date())}.jsonl`);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  });

  test("a reader reads only what was appended since, counts a turn once, skips torn lines", async () => {
    const home = await newHome();
    await recordUsage(home, result("req_20260302_120000_0000000a"));
    assert.equal((await readLocalUsage(home)).get("alpha")?.[0]?.tasks, 1);
    const file = join(home, "run", "usage", "alpha", `${localDay(new Date())}.jsonl`);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    // The same turn written twice (a retry of the write), a torn line, a line still being written.
    await recordUsage(home, result("req_20260302_120000_0000000a"));
    await appendFile(
      file,
      '{"id":"x","prompt":\n{"id":"req_20260302_120000_0000000b","attempt":1,"prompt":3,"completion":4}\n{"id":"par',
    );
    const sum = async () => {
      const days = (await readLocalUsage(home)).get("alpha") ?? [];
      return days.reduce(
        (a, t) => ({
          tasks: a.tasks + t.tasks,
          prompt: a.prompt + t.prompt,
          completion: a.completion + t.completion,
        }),
        { tasks: 0, prompt: 0, completion: 0 },
      );
    };
    assert.deepEqual(await sum(), { tasks: 2, prompt: 13, completion: 9 });
    // The partial line completes later: counted then, once.
    await appendFile(file, 'tial","attempt":1,"prompt":100,"completion":0}\n');
    assert.deepEqual(await sum(), { tasks: 3, prompt: 113, completion: 9 });
  });

  test("a new day's first turn removes day files older than a month; nothing older than 7 days is read", async () => {
    const home = await newHome();
    const dir = join(home, "run", "usage", "alpha");
    await recordUsage(home, result("req_20260302_120000_000000c1"));
    const now = new Date();
    const ago = (days: number) =>
      localDay(new Date(now.getFullYear(), now.getMonth(), now.getDate() - days, 12));
    const line = '{"id":"req_20260302_120000_000000c2","attempt":1,"prompt":1000,"completion":0}\n';
    await writeFile(join(dir, `${ago(8)}.jsonl`), line);
    await writeFile(join(dir, `${ago(40)}.jsonl`), line);
    assert.equal(
      (await readLocalUsage(home)).get("alpha")?.[0]?.prompt,
      10,
      "8 days ago is outside the window",
    );
    await recordUsage(
      home,
      result("req_20260302_120000_000000c3"),
      new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 12),
    );
    const names = await readdir(dir);
    assert.ok(names.includes(`${ago(8)}.jsonl`));
    assert.ok(!names.includes(`${ago(40)}.jsonl`), names.join(","));
  });
});
