/**
 * Loads the control center (run-tui and with it Ink) with Ink's per-frame text work
 * remembered across frames: Ink and the packages it measures with import string-width
 * and @alcalzone/ansi-tokenize; inside the ESM loader those imports are pointed at
 * width.js and ansi-cache.js (same functions, with a bounded memory). The bundle
 * (dist/clawos) does the same at build time (source/build/bundle.ts) and inlines both
 * modules, so there no hook is installed (one would send a runtime require of string-width,
 * as core/text-width.ts makes, to a file that is not there). A resolve hook must be in place before the modules that
 * import these packages are linked, so callers import run-tui through here.
 */
import { existsSync } from "node:fs";
import { registerHooks } from "node:module";

/** Package → our module in its place (imported by every importer but that module itself). */
export const TEXT_CACHES: Readonly<Record<string, string>> = {
  "string-width": "./width.js",
  "@alcalzone/ansi-tokenize": "./ansi-cache.js",
};

/** Ink's Output (imported by its renderer as "./output.js") → ours, which draws only the rows that changed. */
export const INK_OUTPUT = { importer: /[\\/]ink[\\/]build[\\/]renderer\.js$/, file: "./ink-output.js" };
/** How ink-output.ts names Ink's own Output (the package exports only its index). */
export const INK_OUTPUT_ORIGINAL = "ink/build/output.js";

let installed = false;

export function installTextCaches(): void {
  if (installed) return;
  installed = true;
  // Only where our modules exist as files: in the bundle they are inlined (and Ink's imports already
  // point at them), and a redirect there would send a runtime require of string-width nowhere.
  const redirect = new Map(
    Object.entries(TEXT_CACHES)
      .map(([pkg, file]) => [pkg, new URL(file, import.meta.url)] as const)
      .filter(([, url]) => existsSync(url))
      .map(([pkg, url]) => [pkg, url.href]),
  );
  if (redirect.size === 0) return;
  const output = new URL(INK_OUTPUT.file, import.meta.url).href;
  const ink = import.meta.resolve("ink");
  registerHooks({
    resolve(specifier, context, next) {
      const url = redirect.get(specifier);
      if (url !== undefined && context.parentURL !== url)
        return { url, format: "module", shortCircuit: true };
      if (specifier === "./output.js" && INK_OUTPUT.importer.test(context.parentURL ?? ""))
        return { url: output, format: "module", shortCircuit: true };
      if (specifier === INK_OUTPUT_ORIGINAL && context.parentURL === output)
        return next("./output.js", { ...context, parentURL: ink });
      return next(specifier, context);
    },
  });
}

/**
 * The control center's one entry from outside `ui/` (the CLI's `start-tui.ts`, `serve`, the
 * benchmarks): hooks first, then `runTui` (run-tui.tsx) with Ink behind it.
 */
export async function loadTui(): Promise<typeof import("./run-tui.js")> {
  installTextCaches();
  return import("./run-tui.js");
}
