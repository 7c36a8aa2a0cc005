import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { safeLine } from "../../../source/present/safe-text.js";
import { renderTable } from "../../../source/present/table.js";
import { truncate as truncateToWidth } from "../../../source/present/text.js";
import { textWidth } from "../../../source/present/text-width.js";

describe("tables in a terminal", () => {
  test("cut a long reason, then leave out the least useful columns, then cut more, so no row wraps", () => {
    const columns = [
      { header: "NODE" },
      { header: "REASON", flexible: true, max: 200 },
      { header: "ADDRESS", dropOrder: 2 },
      { header: "NOTES", dropOrder: 1 },
    ];
    const rows = [
      [
        "laptop",
        "no heartbeat yet (run clawos node run --node laptop there)",
        "10.0.0.2:18789",
        "sleeps",
      ].map(safeLine),
    ];
    const wide = renderTable(columns, rows, { width: 200 });
    assert.match(wide, /NOTES/);
    const cut = renderTable(columns, rows, { width: 85 });
    assert.match(cut, /NOTES/, "a long reason is cut before any column goes");
    assert.match(cut, /no heartbeat yet.*…/);
    const medium = renderTable(columns, rows, { width: 70 });
    assert.doesNotMatch(medium, /NOTES/);
    assert.match(medium, /ADDRESS/);
    for (const line of medium.split("\n")) assert.ok(line.length <= 70, `${line.length}: ${line}`);
    const narrow = renderTable(columns, rows, { width: 40 });
    assert.doesNotMatch(narrow, /ADDRESS|NOTES/);
    for (const line of narrow.split("\n")) assert.ok(line.length <= 40, `${line.length}: ${line}`);
    assert.match(narrow, /no heartbeat yet.*…/);
    assert.equal(renderTable(columns, rows), wide, "no width (a pipe): everything");
    for (const text of ["❤️".repeat(6), "👨‍👩‍👧".repeat(4)]) {
      const t = truncateToWidth(text, 5);
      assert.ok(textWidth(t) <= 5, `${t} fits`);
      assert.ok(!t.includes("\u200d…"), "never half a joined emoji");
    }
  });
});
