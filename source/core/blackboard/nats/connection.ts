import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Bucket } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { UserError } from "../../domain/errors.js";
import { MAX_RECORD_BYTES } from "../../domain/schema.js";
import { isTransient } from "./js-errors.js";
import { type Buckets, ensureWorkStream, openBuckets } from "./layout.js";
import { type NatsNames, natsNames } from "./names.js";
import { JsWire } from "./nats-wire.js";

export interface NatsBlackboardOptions {
  /** nats://host:port URLs of the servers (one federation: one JetStream). */
  servers: string[];
  /** Names of the streams, buckets and subjects start with this (default "clawos"). */
  prefix?: string;
  /** JetStream domain of the hub, when this machine's server is a leaf node of it. */
  domain?: string;
  clock?: () => number;
  /**
   * This machine's name in the federation, keying its coordinator's notes: FederationCore passes
   * thisMachine() (config.ts), the one name every part uses; the host name only when none is given.
   */
  machine?: string;
  /** Let this handle set malformed records aside (the coordinator's quarantineMalformed). */
  quarantine?: boolean;
  /** How long one operation keeps retrying through a disconnect before it fails (default 30 s). */
  retryForMs?: number;
  /** Connection name shown by the server's monitoring. */
  name?: string;
  /** The coordinator archives a finished task this long after it finished (default 7 days). */
  archiveAfterMs?: number;
  /** How long the archive keeps a task (default 90 days; applies when the archive bucket is made). */
  archiveKeepMs?: number;
}

/** Can these servers be reached, with JetStream on? (Connects and leaves; writes nothing.) */
export async function probeNats(
  servers: string[],
  domain?: string,
): Promise<{ ok: true; version: string } | { ok: false; error: string }> {
  let nc: NatsConnection | undefined;
  try {
    nc = await connect({ servers, timeout: 3_000, maxReconnectAttempts: 0, name: "clawos probe" });
    await jetstreamManager(nc, { timeout: 3_000, ...(domain ? { domain } : {}) });
    return { ok: true, version: nc.info?.version ?? "unknown" };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  } finally {
    await nc?.close().catch(() => {});
  }
}

/**
 * One handle's connection to the federation's JetStream: the clients, the buckets, the clock,
 * and `io`, through which every network operation runs. Every operation is retried through
 * disconnects (the client reconnects by itself) for `retryForMs`, then surfaces as an error;
 * the modules built on this make their retries idempotent (write ids, msgIDs, create-once keys).
 */
export class NatsLink {
  readonly location: string;
  readonly names: NatsNames;
  private nc: NatsConnection | undefined;
  js!: JetStreamClient;
  jsm!: JetStreamManager;
  kv!: Buckets;
  wire!: JsWire;
  apiPrefix = "$JS.API";
  /** Writes to a bucket in another JetStream domain go through that domain's API prefix. */
  kvWritePrefix = "";
  /** The tasks bucket answers direct gets (buckets made by clawos do). */
  direct = true;
  maxRecordBytes = MAX_RECORD_BYTES;
  closed = false;
  private initializing: Promise<void> | undefined;
  /** False between a disconnect and the reconnect: operations wait rather than queue blind. */
  private connected = true;
  private reconnected: { promise: Promise<void>; resolve: () => void } | undefined;
  /** Rejects at the next disconnect: operations in flight then retry at once instead of timing out. */
  private disconnected = rejectLater();

  constructor(readonly options: NatsBlackboardOptions) {
    if (options.servers.length === 0)
      throw new UserError("The NATS blackboard needs at least one server URL.");
    this.names = natsNames(options.prefix);
    this.location = options.servers.join(",");
  }

  now(): number {
    return this.options.clock ? this.options.clock() : Date.now();
  }
  stamp(): string {
    return new Date(this.now()).toISOString();
  }

  /** The connection, if init() made one and close() has not dropped it. */
  get connection(): NatsConnection | undefined {
    return this.nc;
  }

  get conn(): NatsConnection {
    if (!this.nc) throw new Error("NatsBlackboard: call init() first");
    return this.nc;
  }

  async init(): Promise<void> {
    this.initializing ??= this.open();
    try {
      await this.initializing;
    } catch (error) {
      this.initializing = undefined;
      throw error;
    }
  }

  private async open(): Promise<void> {
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: this.options.servers,
        name: this.options.name ?? "clawos",
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        timeout: 5_000,
        // No stack captured up front for every request: they cost more than the request itself.
        noAsyncTraces: true,
      });
    } catch (error) {
      throw new UserError(
        `Cannot reach the NATS blackboard at ${this.location}: ${(error as Error).message}`,
        {
          hint: "is nats-server running with JetStream (-js) and reachable from here? (federation.json → blackboard.servers)",
          cause: error,
        },
      );
    }
    this.nc = nc;
    void this.followStatus(nc);
    try {
      await this.prepare(nc);
    } catch (error) {
      this.nc = undefined;
      await nc.close().catch(() => {});
      throw error;
    }
  }

  private async prepare(nc: NatsConnection): Promise<void> {
    const domain = this.options.domain;
    if (domain) {
      this.apiPrefix = `$JS.${domain}.API`;
      this.kvWritePrefix = `${this.apiPrefix}.`;
    }
    this.wire = new JsWire(nc, this.apiPrefix);
    this.js = jetstream(nc, { timeout: 5_000, ...(domain ? { domain } : {}) });
    this.jsm = await this.io("open JetStream", () =>
      jetstreamManager(nc, { timeout: 5_000, ...(domain ? { domain } : {}) }),
    );
    const maxPayload = nc.info?.max_payload ?? MAX_RECORD_BYTES;
    this.maxRecordBytes = Math.min(MAX_RECORD_BYTES, maxPayload - 8 * 1024);
    await this.io("create the work stream", () => this.ensureWorkStream());
    this.kv = await openBuckets(this.js, this.names, this.options.archiveKeepMs, (what, op) =>
      this.io(what, op),
    );
    // A bucket made elsewhere without direct gets is read through the library instead.
    this.direct = this.kv.tasks instanceof Bucket ? this.kv.tasks.direct : false;
  }

  ensureWorkStream(): Promise<void> {
    return ensureWorkStream(this.jsm, this.names);
  }

  private async followStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        this.connected = false;
        this.disconnected.reject(new Error("disconnected from the server"));
        this.disconnected = rejectLater();
      } else if (status.type === "reconnect") {
        this.connected = true;
        this.reconnected?.resolve();
        this.reconnected = undefined;
      }
    }
  }

  /** Wait (at most until `deadline`) for the client to reconnect; true if it is connected. */
  private async waitConnected(deadline: number): Promise<boolean> {
    if (this.connected) return true;
    if (!this.reconnected) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => {
        resolve = r;
      });
      this.reconnected = { promise, resolve };
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.reconnected.promise,
      new Promise((r) => {
        timer = setTimeout(r, Math.max(0, deadline - Date.now()));
      }),
    ]);
    clearTimeout(timer);
    return this.connected;
  }

  /**
   * Run one network operation, retrying it through disconnects and server restarts for
   * `retryForMs`; then the error surfaces (nothing is dropped silently). Callers make their
   * operations idempotent, since a try that timed out may still have landed.
   */
  async io<T>(
    what: string,
    op: () => Promise<T>,
    transient: (error: unknown) => boolean = isTransient,
  ): Promise<T> {
    const deadline = Date.now() + (this.options.retryForMs ?? 30_000);
    const giveUp = (reason: string, cause?: unknown) =>
      new UserError(`The NATS blackboard at ${this.location} did not answer (${what}): ${reason}`, {
        hint: "is nats-server running and reachable from here? try again once it is",
        ...(cause ? { cause } : {}),
      });
    let wait = 50;
    for (;;) {
      // While disconnected, wait for the reconnect instead of queueing the request blind.
      if (!this.closed && !(await this.waitConnected(deadline))) throw giveUp("disconnected, not sent");
      try {
        // A try cut off by a disconnect may still land: callers' operations are idempotent.
        return await Promise.race([op(), this.disconnected.promise]);
      } catch (error) {
        if (this.closed || !transient(error)) throw error;
        if (Date.now() + wait > deadline) throw giveUp((error as Error).message, error);
        await new Promise((resolve) => setTimeout(resolve, wait));
        wait = Math.min(wait * 2, 1_000);
      }
    }
  }

  /** Mark closed and drop the connection (the caller has given back what it held first). */
  async close(): Promise<void> {
    this.closed = true;
    const nc = this.nc;
    this.nc = undefined;
    this.wire?.close();
    if (nc && !nc.isClosed()) await nc.close().catch(() => {});
  }
}

function rejectLater(): { promise: Promise<never>; reject: (error: Error) => void } {
  let reject!: (error: Error) => void;
  const promise = new Promise<never>((_, r) => {
    reject = r;
  });
  promise.catch(() => {}); // only ever raced against an operation
  return { promise, reject };
}
