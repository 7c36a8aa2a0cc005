/** The worker loop in-process, where the order of its writes can be controlled step by step. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { ProbeResult } from "../../source/core/domain/health.js";
import type { NodeStatusRecord } from "../../source/core/domain/schema.js";
import { runWorker } from "../../source/core/federation/worker.js";
import { withCoreHome } from "../testkit/core-home.js";

test("worker: a probe that finishes after SIGTERM does not write 'running' over the final 'stopped'", async () => {
  await withCoreHome(
    {
      blackboard: { driver: "directory" },
      timing: { heartbeatMs: 200, rescanMs: 60_000 },
      nodes: [{ id: "main", machine: "hub", port: 9, profile: null, token: { none: true } }],
    },
    async (core) => {
      const written: NodeStatusRecord["state"][] = [];
      const writeNodeStatus = core.blackboard.writeNodeStatus.bind(core.blackboard);
      core.blackboard.writeNodeStatus = (record) => {
        written.push(record.state);
        return writeNodeStatus(record);
      };
      // The first probe (start-up) answers at once; the next one, from the heartbeat timer,
      // hangs until the worker has stopped, like a slow gateway's health check would.
      let probes = 0;
      let heartbeatProbeStarted!: () => void;
      const heartbeatProbe = new Promise<void>((resolve) => {
        heartbeatProbeStarted = resolve;
      });
      let answerProbe!: (result: ProbeResult) => void;
      core.probe = () => {
        probes++;
        if (probes === 1) return Promise.resolve({ ok: true, latencyMs: 1, checkedAt: Date.now() });
        heartbeatProbeStarted();
        return new Promise<ProbeResult>((resolve) => {
          answerProbe = resolve;
        });
      };
      const stop = new AbortController();
      const worker = runWorker(core, {
        nodes: ["main"],
        once: false,
        coordinator: false,
        concurrency: 1,
        graceMs: 1_000,
        log: () => {},
        stop: stop.signal,
      });
      await heartbeatProbe;
      stop.abort();
      await worker;
      assert.equal(written.at(-1), "stopped");
      const before = written.length;
      answerProbe({ ok: true, latencyMs: 1, checkedAt: Date.now() });
      // Let the probe's continuation (heartbeat, then the chained write) run to its end.
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(written.slice(before), [], "nothing is written after 'stopped'");
      const { records } = await core.blackboard.readNodeStatuses();
      assert.equal(records.find((r) => r.node === "main")?.state, "stopped");
    },
  );
});
