/**
 * The soak's chaos, each kind in its own loop until `stop` fires: SIGKILL of a worker (sometimes
 * the coordinator) restarted after a pause; a gateway killed and started again on the same port;
 * a malformed file dropped into an inbox; the blackboard's filesystem filled to the last block.
 */
import { open, statfs, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { round } from "../../lib.js";
import {
  between,
  CHAOS,
  elapsedS,
  errnoCode,
  HOLD_MS,
  JUNK_PREFIX,
  NODES,
  pick,
  rng,
  say,
  T0,
} from "./plan.js";
import type { Managed } from "./processes.js";
import { type SmallFs, writeUntilFull } from "./small-fs.js";

export interface ChaosTargets {
  coordinator: Managed;
  workers: Managed[];
  gateways: Managed[];
  blackboard: string;
  fs: SmallFs;
}

/** What the chaos did, for the report (and `diskFullNow` for the dispatchers' refusals). */
export interface ChaosLog {
  events: { atS: number; what: string }[];
  workerKills: number;
  coordinatorKills: number;
  gatewayRestarts: number;
  junk: { path: string; kind: string }[];
  diskEpisodes: {
    atS: number;
    heldS: number;
    filledMiB: number;
    minFreeBlocks: number;
    freeBlocksBefore: number;
  }[];
  diskFullNow: boolean;
}

/** The file that fills the small filesystem (removed after each episode and at cleanup). */
export const fillerPath = (fs: SmallFs) => join(fs.dir, "soak-disk-filler.bin");

/** Sleeps that end early when `signal` fires (chaos stopping); never rejects. */
function nap(ms: number, signal: AbortSignal): Promise<void> {
  return sleep(ms, undefined, { signal }).catch(() => {});
}

export async function exists(path: string): Promise<boolean> {
  try {
    await (await open(path, "r")).close();
    return true;
  } catch (error) {
    return errnoCode(error) !== "ENOENT";
  }
}

const JUNK_KINDS = ["not-json", "empty", "wrong-schema", "misplaced", "bad-name", "binary"] as const;

function junkFile(
  kind: (typeof JUNK_KINDS)[number],
  n: number,
  node: string,
): { name: string; body: Buffer } {
  const id = `${JUNK_PREFIX}_${n}`;
  switch (kind) {
    case "not-json":
      return { name: `${id}.json`, body: Buffer.from('{"schema":"clawos.task/1","id":') };
    case "empty":
      return { name: `${id}.json`, body: Buffer.alloc(0) };
    case "wrong-schema":
      return { name: `${id}.json`, body: Buffer.from(JSON.stringify({ schema: "clawos.task/1", id })) };
    case "misplaced": {
      // A whole, valid request — for another node: it must not run here.
      const other = NODES.find((x) => x !== node)!;
      const now = new Date().toISOString();
      const request = {
        schema: "clawos.task/1",
        id,
        target: other,
        priority: "P1",
        text: "junk that must never run",
        tags: [],
        createdAt: now,
        createdBy: "soak-junk",
        attempt: 1,
        maxAttempts: 3,
        route: { node: other, transport: "blackboard", reason: "junk", decidedAt: now },
        history: [],
      };
      return { name: `${id}.json`, body: Buffer.from(JSON.stringify(request)) };
    }
    case "bad-name":
      return { name: `junk-${n}.txt`, body: Buffer.from("not a task\n") };
    case "binary":
      return { name: `${id}.json`, body: Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x7b, 0x0a, 0x80, 0x81]) };
  }
}

/** Start every chaos loop; `done` resolves once `stop` has fired and each loop has finished its turn. */
export function startChaos(t: ChaosTargets, stop: AbortSignal): { log: ChaosLog; done: Promise<void> } {
  const log: ChaosLog = {
    events: [],
    workerKills: 0,
    coordinatorKills: 0,
    gatewayRestarts: 0,
    junk: [],
    diskEpisodes: [],
    diskFullNow: false,
  };
  const event = (what: string) => {
    log.events.push({ atS: elapsedS(), what });
    say(what);
  };
  const loops = [killLoop, gatewayLoop, junkLoop, diskLoop].map((loop) => loop(t, stop, log, event));
  return { log, done: Promise.all(loops).then(() => {}) };
}

type Event = (what: string) => void;

async function killLoop(t: ChaosTargets, stop: AbortSignal, log: ChaosLog, event: Event): Promise<void> {
  while (!stop.aborted) {
    await nap(between(CHAOS.workerKillEvery), stop);
    if (stop.aborted) return;
    const victim = rng() < CHAOS.coordinatorShare ? t.coordinator : pick(t.workers);
    if (victim.busy || !victim.pid) continue;
    victim.busy = true;
    try {
      await victim.stop("SIGKILL");
      victim.kills++;
      if (victim === t.coordinator) log.coordinatorKills++;
      else log.workerKills++;
      const down = between(CHAOS.workerDownFor);
      event(`SIGKILL ${victim.name}; back in ${(down / 1000).toFixed(1)} s`);
      await sleep(down);
      await victim.start();
    } finally {
      victim.busy = false;
    }
  }
}
async function gatewayLoop(t: ChaosTargets, stop: AbortSignal, log: ChaosLog, event: Event): Promise<void> {
  while (!stop.aborted) {
    await nap(between(CHAOS.gatewayRestartEvery), stop);
    if (stop.aborted) return;
    const gw = pick(t.gateways);
    if (gw.busy || !gw.pid) continue;
    gw.busy = true;
    try {
      await gw.stop("SIGKILL");
      gw.kills++;
      log.gatewayRestarts++;
      const down = between(CHAOS.gatewayDownFor);
      event(`SIGKILL ${gw.name}; starting it again on the same port in ${(down / 1000).toFixed(1)} s`);
      await sleep(down);
      await gw.start();
    } finally {
      gw.busy = false;
    }
  }
}
async function junkLoop(t: ChaosTargets, stop: AbortSignal, log: ChaosLog, event: Event): Promise<void> {
  let n = 0;
  while (!stop.aborted) {
    await nap(between(CHAOS.malformedEvery), stop);
    if (stop.aborted) return;
    const node = pick(NODES);
    const kind = pick(JUNK_KINDS);
    const { name, body } = junkFile(kind, ++n, node);
    const path = join(t.blackboard, "requests", node, name);
    try {
      await writeFile(path, body);
      log.junk.push({ path, kind });
      event(`dropped a malformed file (${kind}) into requests/${node}/${name}`);
    } catch (error) {
      // ENOSPC after the file was created leaves it empty: junk all the same, and counted.
      const partial = await exists(path);
      if (partial) log.junk.push({ path, kind: `${kind}, cut short` });
      event(
        `could not drop a whole malformed file (${errnoCode(error) ?? String(error)})${partial ? `; an empty requests/${node}/${name} was left` : ""}`,
      );
    }
  }
}
async function diskLoop(t: ChaosTargets, stop: AbortSignal, log: ChaosLog, event: Event): Promise<void> {
  if (t.fs.kind === "none") return;
  let wait = CHAOS.diskFullFirst;
  while (!stop.aborted) {
    await nap(wait, stop);
    wait = CHAOS.diskFullEvery;
    if (stop.aborted) return;
    const before = await statfs(t.fs.dir);
    const started = Date.now();
    log.diskFullNow = true;
    let filled = 0;
    let minFree = Number.POSITIVE_INFINITY;
    try {
      filled += await writeUntilFull(fillerPath(t.fs), 1 << 20);
      filled += await writeUntilFull(fillerPath(t.fs), 4096);
      event(
        `disk full: wrote ${(filled / 2 ** 20).toFixed(1)} MiB into the blackboard's filesystem; holding ${HOLD_MS / 1000} s`,
      );
      // Hold it full: whatever the workers free (temp files, progress) is taken again at once.
      while (Date.now() - started < HOLD_MS) {
        filled += await writeUntilFull(fillerPath(t.fs), 4096);
        minFree = Math.min(minFree, Number((await statfs(t.fs.dir)).bavail));
        await sleep(250);
      }
    } finally {
      await unlink(fillerPath(t.fs)).catch(() => {});
      log.diskFullNow = false;
    }
    log.diskEpisodes.push({
      atS: round((started - T0) / 1000, 1),
      heldS: round((Date.now() - started) / 1000, 1),
      filledMiB: round(filled / 2 ** 20, 1),
      minFreeBlocks: minFree,
      freeBlocksBefore: Number(before.bavail),
    });
    event("disk space freed again");
  }
}
