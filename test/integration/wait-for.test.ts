/** FederationCore.waitFor against a blackboard whose lookups can fall between two renames of a move. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { withCoreHome } from "../testkit/core-home.js";

test("waitFor does not call a task gone when one lookup misses it in the middle of a move", async () => {
  await withCoreHome(
    { nodes: [{ id: "laptop", machine: "mba", port: 18789, token: { none: true } }] },
    async (core) => {
      const { request } = await core.dispatch({ text: "moving", to: "laptop", priority: "P2" }, {});
      const claim = await core.blackboard.claim("laptop");
      assert.ok(claim);
      // The first lookup lands between requests/ and claimed/ and sees nothing, as a racing reader can.
      const get = core.blackboard.get.bind(core.blackboard);
      let lookups = 0;
      core.blackboard.get = async (id) => (++lookups === 1 ? undefined : get(id));
      const waiting = core.waitFor(request.id, { rescanMs: 20 });
      await core.blackboard.complete(claim, {
        schema: "clawos.result/1",
        id: request.id,
        attempt: 1,
        node: "laptop",
        status: "completed",
        text: "done",
        finishedAt: new Date().toISOString(),
      });
      const task = await waiting;
      assert.equal(task.state, "completed");
      assert.equal(task.result?.text, "done");
    },
  );
});
