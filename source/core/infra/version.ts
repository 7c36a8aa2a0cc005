import { readFileSync } from "node:fs";

/** Read once from package.json (four levels up from dist/source/core/infra; two from the bundle in dist/clawos). */
function readVersion(): string {
  for (const rel of ["../../../../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "clawos-federation" && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return "0.0.0";
}

export const VERSION = readVersion();
