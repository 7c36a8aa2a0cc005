import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { DirectoryBlackboard } from "../../../source/core/blackboard/directory/directory.js";
import type { Blackboard } from "../../../source/core/blackboard/types.js";
import type { TaskRequest } from "../../../source/core/domain/schema.js";
import { spawnClaimers } from "./claimers.js";
import type { BadRecord, BadRecordKind, ConnectOptions, DriverFixture, StoreFaults } from "./contract.js";
import { statusOf } from "./contract.js";

const TEN_MINUTES_AGO = () => new Date(Date.now() - 10 * 60_000);
const CONFLICT = "sync-conflict-20260301-120000-ABCDEFG";

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function put(path: string, data: string, options: { old?: boolean } = {}): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, data);
  if (options.old) await utimes(path, TEN_MINUTES_AGO(), TEN_MINUTES_AGO());
  return path;
}

export function directoryFaults(root: string): StoreFaults {
  const at = (...parts: string[]) => join(root, ...parts);
  return {
    async crashAfterResult(_claim, result) {
      await put(
        at("results", `${result.id}.a${result.attempt}.${result.status}.json`),
        JSON.stringify(result),
      );
    },
    async crashDuringRequeue(claim) {
      // The deciding step of a requeue: the claimed file renamed into reaping/.
      const dest = at("reaping", claim.node, `${claim.request.id}.requeue.json`);
      await mkdir(dirname(dest), { recursive: true });
      await rename(claim.handle, dest);
    },
    async crashDuringReroute(id, from, to) {
      const dest = at("reaping", from, `${id}.reroute-${to.node}.json`);
      await mkdir(dirname(dest), { recursive: true });
      await rename(at("requests", from, `${id}.json`), dest);
    },
    async crashDuringDispatch(request) {
      // publishNew links the index entry first, then the inbox entry.
      await put(at("index", `${request.id}.json`), JSON.stringify(request));
    },
    async leaveSyncArtifacts(node, request) {
      const id = request.id;
      const json = JSON.stringify(request);
      const old = { old: true };
      return [
        await put(at("requests", node, `${id}.json.tmp`), json, old),
        await put(at("requests", node, `${id}.${CONFLICT}.json`), json, old),
        await put(at("requests", node, `.${id}.json.icloud`), json, old),
        await put(at("requests", node, `.${id}.json`), json, old),
        await put(at("requests", node, `.syncthing.${id}.json.tmp`), json, old),
        await put(at("claimed", node, `${id}.${CONFLICT}.json`), json, old),
        await put(at("claimed", node, `.${id}.json`), json, old),
        await put(at("reaping", node, `${id}.requeue.${CONFLICT}.json`), json, old),
        await put(at("reaping", node, `.${id}.requeue.json`), json, old),
        await put(at("index", `${id}.${CONFLICT}.json`), json, old),
        await put(at("index", `.${id}.json`), json, old),
        await put(at("tmp", `${id}.json`), json, old),
        await put(at("node-status", `${node}.${CONFLICT}.json`), JSON.stringify(statusOf(node)), old),
        await put(at("node-status", `.${node}.json`), JSON.stringify(statusOf(node)), old),
        await put(at("node-status", `${node}.json.tmp`), JSON.stringify(statusOf(node)), old),
      ];
    },
    async leaveBadNodeDefinitions(owner, sample, secret) {
      const dir = (...parts: string[]) => at("registry", owner.replace(/[^A-Za-z0-9_-]/g, "_"), ...parts);
      const old = { old: true };
      await put(dir("broken.json"), `{"id": "${secret}\u001b[31m`, old);
      await put(dir("wrong.json"), JSON.stringify({ ...sample, id: "wrong", generation: secret }), old);
      await put(dir("other.json"), JSON.stringify(sample), old);
      await put(
        dir("spoof.json"),
        JSON.stringify({ ...sample, id: "spoof", owner: "elsewhere", node: { ...sample.node, id: "spoof" } }),
        old,
      );
      await put(dir(`${sample.id}.${CONFLICT}.json`), JSON.stringify({ ...sample, generation: 99 }), old);
      await put(dir(`.${sample.id}.json.tmp`), JSON.stringify({ ...sample, generation: 99 }), old);
      await put(
        at("registry", `.${owner}.tmp`, `${sample.id}.json`),
        JSON.stringify({ ...sample, generation: 99 }),
        old,
      );
    },
    async leaveBadRecord(node, kind, sample) {
      const inbox = (name: string) => at("requests", node, name);
      const id = sample.id;
      const valid = JSON.stringify(sample);
      const old = { old: true };
      const record = (mentionedAs: string, where: string): BadRecord => ({ kind, mentionedAs, where });
      switch (kind as BadRecordKind) {
        case "wrong-schema":
          return record(
            id,
            await put(inbox(`${id}.json`), JSON.stringify({ ...sample, priority: "P9" }), old),
          );
        case "invalid-json-old":
          return record(id, await put(inbox(`${id}.json`), valid.slice(0, valid.length / 2), old));
        case "invalid-json-young":
          return record(id, await put(inbox(`${id}.json`), valid.slice(0, valid.length / 2)));
        case "huge":
          return record(
            id,
            await put(inbox(`${id}.json`), JSON.stringify({ ...sample, text: "大".repeat(400_000) }), old),
          );
        case "path-like-name":
          return record(
            "req_pathlike",
            await put(inbox(`req_pathlike\\..\\..\\${randomBytes(3).toString("hex")}.json`), valid, old),
          );
        case "oversized-name":
          return record(
            "req_oversized",
            await put(inbox(`req_oversized_${"x".repeat(200)}.json`), valid, old),
          );
        case "misplaced": {
          const elsewhere: TaskRequest = { ...sample, route: { ...sample.route, node: "somewhere-else" } };
          return record(id, await put(inbox(`${id}.json`), JSON.stringify(elsewhere), old));
        }
        case "not-a-file": {
          const where = inbox(`${id}.json`);
          await mkdir(join(where, "inside"), { recursive: true });
          await utimes(where, TEN_MINUTES_AGO(), TEN_MINUTES_AGO());
          return record(id, where);
        }
      }
    },
    stillThere: exists,
    async quarantined() {
      const names = (await readdir(at("quarantine")).catch(() => [] as string[])).filter(
        (n) => !n.endsWith(".reason"),
      );
      return Promise.all(
        names.map(async (name) => ({
          name,
          reason: await readFile(at("quarantine", `${name}.reason`), "utf8").catch(() => ""),
        })),
      );
    },
  };
}

export async function makeDirectoryDriver(options: {
  clock?: () => number;
}): Promise<DriverFixture & { root: string }> {
  const root = await mkdtemp(join(tmpdir(), "clawos-bb-contract-"));
  const handles: Blackboard[] = [];
  const open = async (opts: ConnectOptions = {}) => {
    const bb = new DirectoryBlackboard(root, {
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.leaseClock ? { leaseClock: opts.leaseClock } : {}),
      ...(opts.quarantine ? { quarantine: true } : {}),
      ...(opts.machine ? { machine: opts.machine } : {}),
    });
    await bb.init();
    handles.push(bb);
    return bb;
  };
  const bb = await open(options);
  return {
    root,
    bb,
    connect: open,
    spawnClaimers: (node, processes) => spawnClaimers(root, node, processes),
    faults: directoryFaults(root),
    leftAlone: ["not-a-file"],
    async cleanup() {
      for (const h of handles) await h.close();
      if (basename(root).startsWith("clawos-bb-contract-")) await rm(root, { recursive: true, force: true });
    },
  };
}
