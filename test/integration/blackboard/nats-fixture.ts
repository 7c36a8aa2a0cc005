/**
 * The NATS driver's fixture for the blackboard contract: a real nats-server (Debian's
 * 2.9.10) per test, on a random 127.0.0.1 port with its own store directory, more handles
 * on it, claimer processes, and crash leftovers written the way
 * `source/core/blackboard/nats.ts` writes its records.
 *
 * How the directory-shaped fault hooks map onto NATS:
 *  - crash hooks: the driver's deciding step is a CAS on the task record and the publish of
 *    the inbox doorbell comes after it, so a crash "after deciding" is that CAS without the
 *    doorbell; a crash after publishing a result is results/<id>.<attempt> created without
 *    the record's committing CAS.
 *  - sync artifacts: no sync tool touches a NATS store. What a reader finds there that is not
 *    a live record are delete/purge markers of keys (KV keeps them, with their old revision
 *    gone) and look-alike copies in buckets and streams that tools such as `nats stream
 *    backup`/restore or mirrors leave beside ours. Those are left for the hook.
 *  - bad records: foreign or corrupt KV values under the tasks bucket (each with a doorbell
 *    in the node's inbox, so claimers meet them). "path-like" and "oversized" names are keys
 *    that are not task ids; "not a file" is a key nested under a task id (`<id>.inside`), the
 *    way a directory sits where a file should be. "huge" needs a server whose max_payload
 *    allows more than 1 MB, so this server is started with 4 MB.
 *  - young vs old invalid JSON: a KV value is published whole, never half-written, and its
 *    timestamp is the server's and cannot be backdated; the driver gives invalid JSON no
 *    grace (recordsAreAtomic), so both kinds are the same broken value.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { jetstream, jetstreamManager, RetentionPolicy } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { connect, Empty, headers, type NatsConnection } from "@nats-io/transport-node";
import {
  NatsBlackboard,
  type NatsNames,
  NatsTaskRecord,
  natsNames,
} from "../../../source/core/blackboard/nats/nats.js";
import type { Blackboard } from "../../../source/core/blackboard/types.js";
import type { TaskRequest } from "../../../source/core/domain/schema.js";
import { spawnClaimers } from "./claimers.js";
import type { BadRecord, ConnectOptions, DriverFixture, StoreFaults } from "./contract.js";
import { statusOf } from "./contract.js";

export const NATS_SERVER_BIN =
  process.env.CLAWOS_NATS_SERVER ??
  (existsSync("/usr/sbin/nats-server") ? "/usr/sbin/nats-server" : "nats-server");

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  /** The running server's process id (undefined while stopped). */
  readonly pid: number | undefined;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL: the way a crash or a power cut of the process looks. */
  kill(): Promise<void>;
  /** Start again on the same port with the same store directory. */
  restart(): Promise<void>;
  /** Stop it and remove its directory. */
  cleanup(): Promise<void>;
}

/**
 * `nats-server -js -a 127.0.0.1 -p <port|random> -sd <dir>`, ready when it says so. With
 * `config`, the server runs from that configuration alone (given its store directory), e.g.
 * a hub with a JetStream domain and a leafnode listener, or a leaf node.
 */
export async function startNatsServer(
  options: { port?: number; config?: (storeDir: string) => string } = {},
): Promise<NatsServer> {
  const root = await mkdtemp(join(tmpdir(), "clawos-nats-"));
  const storeDir = join(root, "store");
  await mkdir(storeDir);
  const conf = join(root, "nats.conf");
  // 4 MB: lets the contract's "huge" record exist on the server, as it could on a tuned one.
  await writeFile(conf, options.config ? options.config(storeDir) : "max_payload: 4194304\n");
  let child: ChildProcess | undefined;
  let port = options.port ?? -1;
  let log = "";
  const launch = async () => {
    log = "";
    const args = options.config
      ? ["-c", conf]
      : ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir, "-c", conf];
    const proc = spawn(NATS_SERVER_BIN, args, { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server did not start:\n${log}`)), 15_000);
      proc.stderr!.setEncoding("utf8").on("data", (d: string) => {
        log += d;
        const m = /Listening for client connections on [\d.]+:(\d+)/.exec(log);
        if (m && log.includes("Server is ready")) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      proc.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      proc.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited (${code}) before it was ready:\n${log}`));
      });
    });
  };
  // A test process that dies (an uncaught error, process.exit) takes its server with it.
  const onExit = () => child?.kill("SIGKILL");
  process.once("exit", onExit);
  const end = async (signal: NodeJS.Signals) => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, "exit");
    proc.kill(signal);
    await exited;
  };
  await launch();
  const server: NatsServer = {
    get url() {
      return `nats://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    get pid() {
      return child?.pid;
    },
    storeDir,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
    restart: launch,
    async cleanup() {
      process.off("exit", onExit);
      await end("SIGKILL");
      if (basename(root).startsWith("clawos-nats-")) await rm(root, { recursive: true, force: true });
    },
  };
  return server;
}

/** A record as the driver writes it. */
export function recordOf(request: TaskRequest, fields: Partial<NatsTaskRecord> = {}): NatsTaskRecord {
  return NatsTaskRecord.parse({
    schema: "clawos.nats-task/1",
    node: request.route.node,
    state: "pending",
    request,
    cancelRequested: false,
    via: "enqueue",
    w: randomBytes(6).toString("hex"),
    at: new Date().toISOString(),
    ...fields,
  });
}

/** Where something was left: a key's latest entry, at this revision and operation. */
interface Locator {
  bucket: string;
  key: string;
  revision: number;
  operation: "PUT" | "DEL" | "PURGE";
}

/** Raw access to the store, as a foreign writer or a crashed process leaves it. */
export class NatsStore {
  private constructor(
    readonly nc: NatsConnection,
    readonly names: NatsNames,
    private readonly buckets: Map<string, KV>,
  ) {}

  static async open(url: string, names: NatsNames = natsNames()): Promise<NatsStore> {
    const nc = await connect({ servers: url });
    const kvm = new Kvm(jetstream(nc));
    const buckets = new Map<string, KV>();
    for (const b of [names.tasks, names.results, names.progress, names.nodes, names.aside, names.registry])
      buckets.set(b, await kvm.create(b, { history: 1 }));
    return new NatsStore(nc, names, buckets);
  }

  kv(bucket: string): KV {
    const kv = this.buckets.get(bucket);
    if (!kv) throw new Error(`no bucket ${bucket}`);
    return kv;
  }

  /** Put any bytes under any key (the KV client refuses odd keys; the server takes them). */
  async putRaw(bucket: string, key: string, value: string | Uint8Array): Promise<Locator> {
    const ack = await jetstream(this.nc).publish(`$KV.${bucket}.${key}`, value);
    return { bucket, key, revision: ack.seq, operation: "PUT" };
  }

  async mark(bucket: string, key: string, operation: "DEL" | "PURGE"): Promise<Locator> {
    const h = headers();
    h.set("KV-Operation", operation);
    if (operation === "PURGE") h.set("Nats-Rollup", "sub");
    const ack = await jetstream(this.nc).publish(`$KV.${bucket}.${key}`, Empty, { headers: h });
    return { bucket, key, revision: ack.seq, operation };
  }

  /** The latest entry of a key, whatever its name. */
  async latest(bucket: string, key: string): Promise<{ revision: number; operation: string } | undefined> {
    const jsm = await jetstreamManager(this.nc);
    try {
      const m = await jsm.streams.getMessage(`KV_${bucket}`, { last_by_subj: `$KV.${bucket}.${key}` });
      if (!m) return undefined;
      return { revision: m.seq, operation: m.header?.get("KV-Operation") || "PUT" };
    } catch {
      return undefined;
    }
  }

  async task(id: string): Promise<{ record: NatsTaskRecord; revision: number }> {
    const entry = await this.kv(this.names.tasks).get(id);
    if (entry?.operation !== "PUT") throw new Error(`no task record ${id}`);
    return { record: NatsTaskRecord.parse(entry.json()), revision: entry.revision };
  }

  async close(): Promise<void> {
    await this.nc.close();
  }
}

export function natsFaults(store: NatsStore): StoreFaults {
  const n = store.names;
  const tasks = () => store.kv(n.tasks);
  const rewrite = async (id: string, change: (r: NatsTaskRecord) => NatsTaskRecord) => {
    const { record, revision } = await store.task(id);
    await tasks().update(id, JSON.stringify(NatsTaskRecord.parse(change(record))), revision);
  };
  const event = (name: string, detail: string) => ({ at: new Date().toISOString(), event: name, detail });
  return {
    async crashAfterResult(_claim, result) {
      await store.kv(n.results).create(n.resultKey(result.id, result.attempt), JSON.stringify(result));
    },
    async crashDuringRequeue(claim) {
      // The requeue's deciding CAS, claimed → pending with attempt + 1; the doorbell never rung.
      await rewrite(claim.request.id, (r) => ({
        ...r,
        state: "pending",
        claim: undefined,
        request: {
          ...r.request,
          attempt: r.request.attempt + 1,
          history: [...r.request.history, event("attempt-failed", "crashed mid-requeue")],
        },
        via: "requeue",
        w: randomBytes(6).toString("hex"),
      }));
    },
    async crashDuringReroute(id, _from, to) {
      // The reroute's CAS moved the record to the new node; its doorbell was never rung there.
      await rewrite(id, (r) => ({
        ...r,
        node: to.node,
        request: {
          ...r.request,
          route: to,
          history: [...r.request.history, event("rerouted", `to ${to.node}, crashed mid-way`)],
        },
        via: "reroute",
        w: randomBytes(6).toString("hex"),
      }));
    },
    async crashDuringDispatch(request) {
      // enqueue() creates the record first (the id reservation), then rings the doorbell.
      await tasks().create(request.id, JSON.stringify(recordOf(request)));
    },
    async leaveBadNodeDefinitions(owner, sample, secret) {
      const key = (id: string) => `${owner.replace(/[^A-Za-z0-9_-]/g, "_")}.${id}`;
      await store.putRaw(n.registry, key("broken"), `{"id": "${secret}\u001b[31m`);
      await store.putRaw(
        n.registry,
        key("wrong"),
        JSON.stringify({ ...sample, id: "wrong", generation: secret }),
      );
      await store.putRaw(n.registry, key("other"), JSON.stringify(sample));
      await store.putRaw(
        n.registry,
        key("spoof"),
        JSON.stringify({ ...sample, id: "spoof", owner: "elsewhere", node: { ...sample.node, id: "spoof" } }),
      );
      // Deleted keys and a look-alike bucket are never read.
      await store.putRaw(
        n.registry,
        key("gone"),
        JSON.stringify({ ...sample, id: "gone", node: { ...sample.node, id: "gone" } }),
      );
      await store.mark(n.registry, key("gone"), "DEL");
      const kvm = new Kvm(jetstream(store.nc));
      await (await kvm.create(`${n.registry}-sync-conflict`, { history: 1 })).put(
        key(sample.id),
        JSON.stringify({ ...sample, generation: 99 }),
      );
    },
    async leaveSyncArtifacts(node, request) {
      const id = request.id;
      const left: Locator[] = [];
      // Keys a reader must treat as absent: their values are gone, only markers remain.
      await tasks().put(id, JSON.stringify(recordOf(request)));
      left.push(await store.mark(n.tasks, id, "DEL"));
      await store.kv(n.results).put(n.resultKey(id, 1), JSON.stringify({ id }));
      left.push(await store.mark(n.results, n.resultKey(id, 1), "PURGE"));
      await store.kv(n.progress).put(id, JSON.stringify({ id }));
      left.push(await store.mark(n.progress, id, "DEL"));
      await store.kv(n.nodes).put(node, JSON.stringify(statusOf(node)));
      left.push(await store.mark(n.nodes, node, "PURGE"));
      // Look-alike copies beside ours (a restored backup, a mirror): never read.
      const kvm = new Kvm(jetstream(store.nc));
      for (const suffix of ["tasks-sync-conflict-20260301", "tasks-backup"]) {
        const bucket = `${n.prefix}-${suffix}`;
        const kv = await kvm.create(bucket, { history: 1 });
        const revision = await kv.put(id, JSON.stringify(recordOf(request)));
        left.push({ bucket, key: id, revision, operation: "PUT" });
      }
      const nodesCopy = `${n.prefix}-nodes-backup`;
      const revision = await (await kvm.create(nodesCopy, { history: 1 })).put(
        node,
        JSON.stringify(statusOf(node)),
      );
      left.push({ bucket: nodesCopy, key: node, revision, operation: "PUT" });
      const jsm = await jetstreamManager(store.nc);
      await jsm.streams.add({
        name: `${n.prefix}-work-backup`,
        subjects: [`${n.prefix}-backup.tasks.>`],
        retention: RetentionPolicy.Limits,
      });
      await jetstream(store.nc).publish(`${n.prefix}-backup.tasks.${node}.${id}`, JSON.stringify({ id }));
      return left.map((l) => JSON.stringify(l));
    },
    async leaveBadRecord(node, kind, sample) {
      const id = sample.id;
      const valid = recordOf({ ...sample, route: { ...sample.route, node } });
      const json = JSON.stringify(valid);
      let key = id;
      let value: string;
      let mentionedAs = id;
      switch (kind) {
        case "wrong-schema":
          value = JSON.stringify({ ...valid, request: { ...valid.request, priority: "P9" } });
          break;
        case "invalid-json-old":
        case "invalid-json-young":
          value = json.slice(0, json.length / 2);
          break;
        case "huge":
          value = JSON.stringify({ ...valid, request: { ...valid.request, text: "大".repeat(400_000) } });
          break;
        case "path-like-name":
          key = `req_pathlike/%2E%2E/%2E%2E/${randomBytes(3).toString("hex")}`;
          mentionedAs = "req_pathlike";
          value = json;
          break;
        case "oversized-name":
          key = `req_oversized_${"x".repeat(200)}`;
          mentionedAs = "req_oversized";
          value = json;
          break;
        case "misplaced":
          // Lies in this node's inbox, but the request inside is routed somewhere else.
          value = JSON.stringify({
            ...valid,
            request: { ...valid.request, route: { ...valid.request.route, node: "somewhere-else" } },
          });
          break;
        case "not-a-file":
          key = `${id}.inside`;
          value = json;
          break;
      }
      const where = await store.putRaw(n.tasks, key, value);
      // Its doorbell too, so that claimers meet it.
      await jetstream(store.nc).publish(
        n.doorbell(node, key.split(".")[0]!, "P2"),
        JSON.stringify({ id: key }),
      );
      return { kind, mentionedAs, where: JSON.stringify(where) } satisfies BadRecord;
    },
    async stillThere(where) {
      const l = JSON.parse(where) as Locator;
      const now = await store.latest(l.bucket, l.key);
      return now?.revision === l.revision && now.operation === l.operation;
    },
    async quarantined() {
      const aside = store.kv(n.aside);
      const out: { name: string; reason: string }[] = [];
      for await (const key of await aside.keys()) {
        if (!key.endsWith(".reason")) continue;
        out.push({ name: key.slice(0, -".reason".length), reason: (await aside.get(key))?.string() ?? "" });
      }
      return out;
    },
  };
}

export async function makeNatsDriver(options: {
  clock?: () => number;
}): Promise<DriverFixture & { server: NatsServer; store: NatsStore }> {
  const server = await startNatsServer();
  const handles: Blackboard[] = [];
  const open = async (opts: ConnectOptions = {}) => {
    const bb = new NatsBlackboard({
      servers: [server.url],
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.leaseClock ? { leaseClock: opts.leaseClock } : {}),
      ...(opts.quarantine ? { quarantine: true } : {}),
      ...(opts.machine ? { machine: opts.machine } : {}),
    });
    handles.push(bb);
    await bb.init();
    return bb;
  };
  try {
    const bb = await open(options);
    const store = await NatsStore.open(server.url);
    return {
      server,
      store,
      bb,
      connect: open,
      spawnClaimers: (node, processes) => spawnClaimers(server.url, node, processes),
      faults: natsFaults(store),
      recordsAreAtomic: true,
      async cleanup() {
        for (const h of handles) await h.close();
        await store.close();
        await server.cleanup();
      },
    };
  } catch (error) {
    for (const h of handles) await h.close();
    await server.cleanup();
    throw error;
  }
}
