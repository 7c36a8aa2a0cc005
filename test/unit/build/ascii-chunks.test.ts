import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { asciiOnly } from "../../../source/build/ascii-chunks.js";

const NON_ASCII = /[^\x00-\x7f]/;

// Every place a character outside ASCII can sit in a chunk after esbuild: comments, strings,
// templates (plain and tagged), regex literals with and without `u`, identifiers.
const SOURCE = `// 80×24 — a comment
/* a block comment: → … */
const café = "naïve…";
const tag = (strings, ...values) => strings.map((s, i) => s + (values[i] ?? "")).join("");
const plain = \`wait… \${café} 漢字\`;
const tagged = tag\`Waiting for the task…\${1}—done\`;
const classic = /[.!?…]$/;
const unicode = /^😀[→←]$/u;
const bytes = /^😀$/;
return [café, plain, tagged, "😀 ✓".length, classic.test("so…"), classic.test("so,"),
  unicode.test("😀→"), unicode.test("😀x"), bytes.test("😀"), /\\p{Script=Han}/u.test("漢")];`;

describe("ASCII-only chunks", () => {
  test("escaping every non-ASCII character keeps what the code does", () => {
    const escaped = asciiOnly(SOURCE);
    assert.doesNotMatch(escaped, NON_ASCII);
    assert.notEqual(escaped, SOURCE);
    const run = (code: string) => new Function(code)() as unknown[];
    assert.deepEqual(run(escaped), run(SOURCE));
    assert.deepEqual(run(SOURCE).slice(0, 3), ["naïve…", "wait… naïve… 漢字", "Waiting for the task…1—done"]);
  });

  test("ASCII code is left as it is", () => {
    const code = 'const a = "\\u2026"; // plain\n';
    assert.equal(asciiOnly(code), code);
  });

  test("the built bundle's chunks are ASCII only", async () => {
    const dir = new URL("../../../clawos/", import.meta.url);
    const names = (await readdir(dir)).filter((name) => name.endsWith(".js"));
    assert.ok(names.length > 10, `the bundle in ${dir.pathname} is built`);
    for (const name of names)
      assert.doesNotMatch(await readFile(new URL(name, dir), "utf8"), NON_ASCII, name);
  });
});
