import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { withConfigReference } from "../../source/cli/config-reference.js";

test("README's configuration reference matches the zod schemas (run npm run docs after changing them)", async () => {
  const readme = await readFile(new URL("../../../README.md", import.meta.url), "utf8");
  assert.equal(readme, withConfigReference(readme));
  assert.match(readme, /\| `nodes\[\]\.token` \|/);
});
