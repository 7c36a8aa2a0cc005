import { type ApiError, JetStreamApiError } from "@nats-io/jetstream";
import {
  createInbox,
  headers,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  NoRespondersError,
  type Subscription,
  TimeoutError,
} from "@nats-io/transport-node";

const decoder = new TextDecoder();

interface Pending {
  resolve: (msg: Msg) => void;
  reject: (error: Error) => void;
  /** Date.now() after which the request has timed out. */
  deadline: number;
  subject: string;
}

interface Outgoing {
  subject: string;
  data: string | Uint8Array;
  reply?: string;
  headers?: MsgHdrs;
  /** The request this send belongs to, failed if the send throws. */
  token?: string;
}

/** The latest message of a subject, as a direct get returns it. */
export interface StoredEntry {
  revision: number;
  value: Uint8Array;
  /** Server time it was stored (ms since the epoch). */
  created: number;
  operation: string;
}

/**
 * The few JetStream calls on the claim → complete path, done directly: one reply
 * subscription and a map of pending requests. Measured on the bench machine, the client
 * library's KV layer costs about three times the CPU of the bare request (71 vs 25 µs a
 * put; it builds an Error for every request it completes), and a worker's CPU is what
 * bounds throughput. Everything else still goes through the library.
 *
 * Sends are held until the current macrotask (with all its promise continuations) is done,
 * then handed to the client in one go: the client writes everything published in one
 * synchronous run as one socket write, and socket writes were the largest single cost in
 * the worker profiles (one write per request otherwise, since each continuation publishes
 * after the client's microtask flush already ran). Timeouts are checked by one sweep timer
 * instead of a timer per request.
 */
export class JsWire {
  private readonly inbox = createInbox();
  private readonly pending = new Map<string, Pending>();
  private readonly sub: Subscription;
  private counter = 0;
  private outgoing: Outgoing[] = [];
  private flushScheduled = false;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly apiPrefix: string,
    private readonly timeoutMs = 5_000,
  ) {
    this.sub = nc.subscribe(`${this.inbox}.*`, {
      callback: (error, msg) => {
        if (error) return; // the pending requests time out
        const token = msg.subject.slice(this.inbox.length + 1);
        const p = this.pending.get(token);
        if (!p) return;
        this.pending.delete(token);
        if (msg.headers?.code === 503) p.reject(new NoRespondersError(p.subject));
        else p.resolve(msg);
      },
    });
  }

  /** Publish without awaiting a reply here (an ack, a pull), in the next batch of sends. */
  send(subject: string, data: string | Uint8Array, reply?: string): void {
    this.queue({ subject, data, ...(reply ? { reply } : {}) });
  }

  request(subject: string, data: string | Uint8Array, h?: MsgHdrs): Promise<Msg> {
    const token = (++this.counter).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      this.pending.set(token, { resolve, reject, deadline: Date.now() + this.timeoutMs, subject });
      this.sweeper ??= setInterval(() => this.sweep(), Math.min(1_000, this.timeoutMs)).unref();
      this.queue({ subject, data, reply: `${this.inbox}.${token}`, ...(h ? { headers: h } : {}), token });
    });
  }

  private queue(out: Outgoing): void {
    this.outgoing.push(out);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    const batch = this.outgoing;
    this.outgoing = [];
    for (const out of batch) {
      try {
        this.nc.publish(out.subject, out.data, {
          ...(out.reply ? { reply: out.reply } : {}),
          ...(out.headers ? { headers: out.headers } : {}),
        });
      } catch (error) {
        if (out.token === undefined) continue; // an ack: its message comes back after the ack wait
        const p = this.pending.get(out.token);
        this.pending.delete(out.token);
        p?.reject(error as Error);
      }
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [token, p] of this.pending) {
      if (p.deadline > now) continue;
      this.pending.delete(token);
      p.reject(new TimeoutError());
    }
    if (this.pending.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  /** Store a message in a stream; its sequence, or the server's refusal as a JetStreamApiError. */
  async publish(
    subject: string,
    data: string | Uint8Array,
    options: { msgID?: string; expectLastSubjectSequence?: number } = {},
  ): Promise<number> {
    let h: MsgHdrs | undefined;
    if (options.msgID !== undefined || options.expectLastSubjectSequence !== undefined) {
      h = headers();
      if (options.msgID !== undefined) h.set("Nats-Msg-Id", options.msgID);
      if (options.expectLastSubjectSequence !== undefined)
        h.set("Nats-Expected-Last-Subject-Sequence", String(options.expectLastSubjectSequence));
    }
    const reply = await this.request(subject, data, h);
    const ack = JSON.parse(decoder.decode(reply.data)) as { seq?: number; error?: ApiError };
    if (ack.error) throw new JetStreamApiError(ack.error);
    if (typeof ack.seq !== "number") throw new Error(`unexpected reply to a publish on ${subject}`);
    return ack.seq;
  }

  /** The latest message on `subject` in `stream` (a direct get), or undefined if there is none. */
  async last(stream: string, subject: string): Promise<StoredEntry | undefined> {
    const reply = await this.request(
      `${this.apiPrefix}.DIRECT.GET.${stream}`,
      JSON.stringify({ last_by_subj: subject }),
    );
    const code = reply.headers?.code ?? 0;
    if (code === 404) return undefined;
    if (code >= 300)
      throw new JetStreamApiError({
        code,
        err_code: 0,
        description: reply.headers?.description || `status ${code}`,
      });
    return {
      revision: Number(reply.headers?.get("Nats-Sequence")),
      value: reply.data,
      created: Date.parse(reply.headers?.get("Nats-Time-Stamp") ?? ""),
      operation: reply.headers?.get("KV-Operation") || "PUT",
    };
  }

  close(): void {
    this.sub.unsubscribe();
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.outgoing = [];
    for (const p of this.pending.values()) p.reject(new Error("the blackboard was closed"));
    this.pending.clear();
  }
}
