/**
 * Summarise V8 .cpuprofile files (from `node --cpu-prof`): self time by function and by
 * file/package, and inclusive time of the heaviest functions. Used to explain missed goals.
 *
 *   node dist/bench/tools/cpuprofile-summary.js [--top 25] FILE_OR_DIR...
 */
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { benchArgsAndPaths, round, table } from "../lib.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = benchArgsAndPaths({ top: { type: "string", default: "25" } });
const TOP = Number(values.top);

async function files(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    if ((await stat(p)).isDirectory()) {
      for (const name of await readdir(p)) if (name.endsWith(".cpuprofile")) out.push(join(p, name));
    } else out.push(p);
  }
  return out;
}

/** Where a frame lives: a package, our own code, Node internals, or a V8 pseudo-frame. */
function place(url: string, name: string): string {
  if (!url) return name.startsWith("(") ? name : "(native)";
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `pkg:${nm[1]}`;
  if (url.startsWith("node:")) return url.split("/").slice(0, 2).join("/");
  const own = /\/dist\/(.+)$/.exec(url);
  if (own) return own[1]!;
  return url;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || "(anonymous)";
  return url ? `${name} ${place(url, name)}:${lineNumber + 1}` : name;
}

const self = new Map<string, number>();
const byPlace = new Map<string, number>();
const inclusive = new Map<string, number>();
let totalMs = 0;
let wallMs = 0;
const list = await files(positionals);
if (list.length === 0) {
  console.error("usage: cpuprofile-summary FILE_OR_DIR...");
  process.exit(2);
}
for (const file of list) {
  const profile = JSON.parse(await readFile(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  wallMs += (profile.endTime - profile.startTime) / 1000;
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const ms = us / 1000;
    totalMs += ms;
    self.set(label(node), (self.get(label(node)) ?? 0) + ms);
    const where = place(node.callFrame.url, node.callFrame.functionName);
    byPlace.set(where, (byPlace.get(where) ?? 0) + ms);
    // Inclusive: credit every distinct frame on the stack once.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const l = label(byId.get(at)!);
      if (seen.has(l)) continue;
      seen.add(l);
      inclusive.set(l, (inclusive.get(l) ?? 0) + ms);
    }
  }
}

const top = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP);
const pct = (ms: number) => `${round((100 * ms) / totalMs, 1)}%`;
console.log(`${list.length} profile(s), ${round(wallMs, 1)} ms wall, ${round(totalMs, 1)} ms sampled\n`);
console.log("Self time by file / package:\n");
console.log(table([["where", "ms", "share"], ...top(byPlace).map(([k, v]) => [k, round(v, 1), pct(v)])]));
console.log("\nSelf time by function:\n");
console.log(table([["function", "ms", "share"], ...top(self).map(([k, v]) => [k, round(v, 1), pct(v)])]));
// Module bodies (anonymous top-level frames at line 1): what loading each package costs.
const modules = new Map<string, number>();
for (const [k, v] of inclusive) {
  const m = /^\(anonymous\) (.+):1$/.exec(k);
  if (m && !m[1]!.startsWith("node:")) modules.set(m[1]!, v);
}
console.log(
  "\nModule evaluation, inclusive (top-level bodies; nested imports counted in their importer too):\n",
);
console.log(table([["module", "ms", "share"], ...top(modules).map(([k, v]) => [k, round(v, 1), pct(v)])]));
console.log("\nInclusive time by function:\n");
console.log(
  table([["function", "ms", "share"], ...top(inclusive).map(([k, v]) => [k, round(v, 1), pct(v)])]),
);
