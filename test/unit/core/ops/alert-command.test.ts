import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { FleetEvent } from "../../../../source/core/domain/federation-types.js";
import { eventJson } from "../../../../source/core/domain/fleet-events.js";
import { runAlertCommand } from "../../../../source/core/ops/alert-command.js";

describe("the alert command's stdin", () => {
  let dir: string;
  let script: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "clawos-alert-"));
    script = join(dir, "alert.sh");
    await writeFile(script, `#!/bin/sh\ncat > ${JSON.stringify(join(dir, "stdin.json"))}\n`, { mode: 0o755 });
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test("is the event as watch --json prints it: every field, node null for the federation's budget", async () => {
    const event: FleetEvent = {
      time: "2026-12-05T10:00:00.000Z",
      kind: "budget-reached",
      message: "the federation reached its daily budget",
    };
    assert.match(await runAlertCommand([script], event, 5000), /alert budget-reached federation: .* done/);
    const sent = await readFile(join(dir, "stdin.json"), "utf8");
    assert.equal(sent, `${eventJson(event)}\n`);
    assert.deepEqual(JSON.parse(sent), {
      time: event.time,
      kind: "budget-reached",
      node: null,
      task: null,
      from: null,
      to: null,
      message: event.message,
    });
  });
});
