import { readFile, writeFile } from "node:fs/promises";
import { withConfigReference } from "./config-reference.js";

// `npm run docs`: regenerate the generated parts of README.md.
const path = new URL("../../../README.md", import.meta.url);
await writeFile(path, withConfigReference(await readFile(path, "utf8")));
process.stdout.write("README.md: configuration reference regenerated\n");
