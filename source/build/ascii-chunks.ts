/**
 * Writes the bundle's chunks in ASCII only: every other character becomes a `\uXXXX` escape.
 *
 * Why: V8 holds a module's source for as long as the module lives (lazy functions are compiled
 * from it), one byte per character when every character is Latin-1 and two otherwise. esbuild
 * escapes string literals, but keeps some comments, tagged templates and regex literals as
 * written, so one "—" in a comment (ours, or zod's) stored the control center's 1 MB chunk as
 * 2 MB, and the loader's decoding of it cost more again: idle RSS ~6 MB (BENCHMARKS.md,
 * "Control center memory, round 5").
 *
 * An escape means what the character meant in a comment, a string, a template's text, a regex
 * (characters outside the BMP become a surrogate pair, which a `u` regex reads as one code
 * point) and an identifier. Only a tag reading a template's `.raw` would see the escape; the
 * bundle's only ones are `String.raw` regex sources, where it means the same.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** `code` with each UTF-16 code unit above 0x7F written as `\uXXXX`. */
export function asciiOnly(code: string): string {
  return code.replace(/[^\x00-\x7f]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Rewrites the `.js` files of `dir` that are not ASCII already; returns their names. */
export async function escapeChunks(dir: string): Promise<string[]> {
  const rewritten: string[] = [];
  for (const name of await readdir(dir)) {
    if (!name.endsWith(".js")) continue;
    const file = join(dir, name);
    const code = await readFile(file, "utf8");
    const ascii = asciiOnly(code);
    if (ascii === code) continue;
    await writeFile(file, ascii);
    rewritten.push(name);
  }
  return rewritten;
}
