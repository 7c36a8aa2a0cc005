import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { handedBackLines } from "../../../source/present/handed-back.js";

describe("quitting with tasks running here", () => {
  test("says where each went and what runs it, only naming a worker command where none runs", () => {
    assert.deepEqual(handedBackLines([]), []);
    const [first, second] = handedBackLines([
      { id: "req_a", node: "main" },
      { id: "req_b", node: "alpha", served: true },
    ]);
    assert.match(
      first ?? "",
      /2 tasks were still running here and went back to main's, alpha's inbox, nothing lost: req_a, req_b/,
    );
    assert.equal(second, "  a worker runs them: clawos node run --node main");
    assert.equal(
      handedBackLines([{ id: "req_c", node: "main", served: true }])[1],
      "  main's worker picks it up",
    );
    assert.match(
      handedBackLines([{ id: "req_d", node: "main", stillClaimed: true }])[0] ?? "",
      /req_d could not be handed back in time: it goes back to the inbox when the lease runs out/,
    );
  });
});
