import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { newTaskId } from "../../../../source/core/domain/ids.js";
import { localeOrder } from "../../../../source/core/domain/text-order.js";

const sign = (n: number) => Math.sign(n);

/** A deterministic stream of numbers in [0, 1), so a failure can be run again. */
function numbers(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function agreesWithLocaleCompare(pairs: Iterable<readonly [string, string]>): void {
  for (const [a, b] of pairs) {
    assert.equal(
      sign(localeOrder(a, b)),
      sign(a.localeCompare(b)),
      `${JSON.stringify(a)} vs ${JSON.stringify(b)}`,
    );
    assert.equal(
      sign(localeOrder(b, a)),
      sign(b.localeCompare(a)),
      `${JSON.stringify(b)} vs ${JSON.stringify(a)}`,
    );
  }
}

function* pairsOf(values: readonly string[]): Generator<readonly [string, string]> {
  for (const a of values) for (const b of values) yield [a, b];
}

describe("localeOrder", () => {
  test("orders ISO timestamps of any precision as localeCompare does", () => {
    const next = numbers(18);
    const stamps = [
      "2026-12-06T06:30:00Z",
      "2026-12-06T06:30:00.5Z",
      "2026-12-06T06:30:00.000Z",
      "2026-12-06T06:30:00.123456789Z",
    ];
    for (let i = 0; i < 300; i++) {
      const t = new Date(Date.UTC(2020, 0, 1) + Math.floor(next() * 8 * 365 * 86_400_000)).toISOString();
      const cut = Math.floor(next() * 4);
      // Whole seconds, and fractions of 1 to 3 digits (a timestamp written by another tool).
      stamps.push(cut === 0 ? `${t.slice(0, 19)}Z` : `${t.slice(0, 20 + cut)}Z`);
    }
    agreesWithLocaleCompare(pairsOf(stamps));
  });

  test("orders task ids and node ids as localeCompare does", () => {
    const next = numbers(20);
    const ids = ["req_20261206_063000", "req_20261206_063000_00000000", "req_20261206_063000_ffffffff"];
    for (let i = 0; i < 150; i++)
      ids.push(newTaskId(new Date(Date.UTC(2026, 0, 1) + Math.floor(next() * 1e9))));
    const nodes = ["a", "a-b", "a0", "ab", "alpha", "alpha-2", "alpha2", "main", "mac-mini", "0", "9z", "z-"];
    for (let i = 0; i < 150; i++) {
      const chars = "abcdefghijklmnopqrstuvwxyz0123456789-";
      let id = "";
      for (let n = 1 + Math.floor(next() * 6); n > 0; n--) id += chars[Math.floor(next() * chars.length)];
      nodes.push(id);
    }
    agreesWithLocaleCompare(pairsOf(ids));
    agreesWithLocaleCompare(pairsOf(nodes));
  });

  test("leaves every other string to localeCompare, including mixed shapes", () => {
    const odd = [
      "2026-12-06T06:30:00Z",
      "2026-12-06T06:30:00+01:00",
      "2026-12-06",
      "req_example",
      "req_Example",
      "req_20261206_063000_ABCDEF12",
      "Alpha",
      "alpha",
      "beta",
      "ä",
      "a",
      "",
      "_",
      "-",
    ];
    agreesWithLocaleCompare(pairsOf(odd));
    assert.equal(localeOrder("x", "x"), 0);
  });
});
