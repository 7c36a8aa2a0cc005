import {
  createInbox,
  type Msg,
  NoRespondersError,
  type Subscription,
  TimeoutError,
} from "@nats-io/transport-node";
import { isValidTaskId } from "../../domain/ids.js";
import { PRIORITIES, type Priority } from "../../domain/schema.js";
import { shuffle } from "./collections.js";
import type { NatsLink } from "./connection.js";
import { isApiError, isNoResponders, isTimeout, isTransient } from "./js-errors.js";
import { addInboxConsumer } from "./layout.js";

/**
 * The doorbells of one node and priority as this handle pulls them: one reply subscription
 * for all its pulls, at most one pull in flight, claimers waiting for a doorbell, and (while
 * claims come fast) a few doorbells fetched ahead so that a claim does not wait for a pull.
 */
export interface Lane {
  node: string;
  priority: Priority;
  /** The pull API subject of this lane's durable consumer. */
  next: string;
  /** Prefix of this lane's doorbell subjects (the task id follows). */
  subjectPrefix: string;
  inbox: string;
  sub: Subscription;
  /** Copies of this lane's new doorbells as they are published: the lane is worth asking again. */
  news: Subscription;
  buffer: Msg[];
  waiting: { resolve: (msg: Msg | undefined) => void; reject: (error: unknown) => void }[];
  pull: { token: string; want: number; got: number; finish: (error?: Error) => void } | undefined;
  pulling: boolean;
  /** The last pull brought all it asked for: more are probably waiting on the server. */
  full: boolean;
  /** How many doorbells to keep at hand: PREFETCH while claims come fast, else 0. */
  prefetch: number;
  seq: number;
  /** When a pull last found this lane empty (Date.now()). */
  emptyAt: number;
  /** When a claimer last took a doorbell of this lane. */
  lastTake: number;
  idleTimer: NodeJS.Timeout | undefined;
}

/** Doorbells fetched ahead while claims come at least this often. */
const PREFETCH_WHEN_CLAIMS_WITHIN_MS = 50;
const PREFETCH = 16;
/** Doorbells fetched ahead but not taken for this long go back to the server for other claimers. */
const PREFETCH_HOLD_MS = 250;
/** A lane found empty is not asked again for this long while a less urgent lane has doorbells at hand. */
const EMPTY_LANE_RECHECK_MS = 100;
/** Otherwise for this long, unless a new doorbell is seen published to it. */
const EMPTY_LANE_TRUST_MS = 2_000;

/**
 * The work stream's doorbells as claimers see them: a durable pull consumer per node and
 * priority hands each doorbell to one claimer, so claimers do not pile onto the same task.
 * Doorbells are hints; the claim itself is the record's CAS (claims.ts).
 */
export class DoorbellLanes {
  private readonly consumers = new Map<string, Promise<void>>();
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly link: NatsLink) {}

  /**
   * Ids with a doorbell in `node`'s inbox (stale ones included: callers check the record),
   * most urgent first, in random order within a priority.
   */
  async inboxIds(node: string): Promise<string[]> {
    const { link } = this;
    const info = await link.io("list an inbox", () =>
      link.jsm.streams.info(link.names.workStream, { subjects_filter: link.names.inboxFilter(node) }),
    );
    const prefix = `${link.names.prefix}.tasks.${node}.`;
    const byPriority = new Map<string, string[]>(PRIORITIES.map((p) => [p, []]));
    for (const subject of Object.keys(info.state.subjects ?? {})) {
      if (!subject.startsWith(prefix)) continue;
      const [priority, id, ...rest] = subject.slice(prefix.length).split(".");
      if (rest.length === 0 && id && isValidTaskId(id)) byPriority.get(priority!)?.push(id);
    }
    return [...byPriority.values()].flatMap((ids) => shuffle(ids));
  }

  private lane(node: string, priority: Priority): Lane {
    const key = `${node}\n${priority}`;
    let lane = this.lanes.get(key);
    if (lane) return lane;
    const { link } = this;
    const inbox = createInbox();
    const l: Lane = {
      node,
      priority,
      next: `${link.apiPrefix}.CONSUMER.MSG.NEXT.${link.names.workStream}.${link.names.durable(node, priority)}`,
      subjectPrefix: `${link.names.prefix}.tasks.${node}.${priority}.`,
      inbox,
      // One subscription for every pull of this lane (the client renews it after a reconnect).
      sub: link.conn.subscribe(`${inbox}.*`, {
        callback: (error, msg) => {
          if (!error) this.onDoorbell(l, msg);
        },
      }),
      news: link.conn.subscribe(link.names.laneFilter(node, priority), {
        callback: () => {
          l.emptyAt = 0;
        },
      }),
      buffer: [],
      waiting: [],
      pull: undefined,
      pulling: false,
      full: false,
      prefetch: 0,
      seq: 0,
      emptyAt: 0,
      lastTake: 0,
      idleTimer: undefined,
    };
    lane = l;
    this.lanes.set(key, lane);
    return lane;
  }

  /**
   * The next doorbell for a claim of `node`: the most urgent lane that has one, asked most
   * urgent first. A lane found empty is not asked again while no new doorbell was seen
   * published to it (the lane's `news`), for up to EMPTY_LANE_TRUST_MS: so a claim usually
   * asks only the lane that rang, one round trip to the server rather than one per priority.
   * A doorbell whose news was missed is still found by the claim's inbox listing (claims.ts).
   * While doorbells of a less urgent lane are at hand (fetched ahead because claims come
   * fast), that trust lasts only EMPTY_LANE_RECHECK_MS, and the recheck runs beside the
   * claim rather than in its way: an urgent task can lose to a less urgent one only while
   * claims come fast, and only if it arrives between two claims (or its news was missed:
   * then until the recheck brings it, a round trip later).
   */
  async nextDoorbell(node: string): Promise<{ lane: Lane; msg: Msg } | undefined> {
    const lanes = PRIORITIES.map((p) => this.lane(node, p));
    const now = Date.now();
    for (let i = 0; i < lanes.length; i++) {
      const lane = lanes[i]!;
      const msg = lane.buffer.shift();
      if (msg) {
        this.took(lane, now);
        return { lane, msg };
      }
      const lessUrgentAtHand = lanes.slice(i + 1).some((l) => l.buffer.length > 0);
      if (now - lane.emptyAt < (lessUrgentAtHand ? EMPTY_LANE_RECHECK_MS : EMPTY_LANE_TRUST_MS)) continue;
      if (lessUrgentAtHand && lane.emptyAt !== 0) {
        // Found empty and no news since: look again without holding this claim up (a pull
        // round trip per recheck, every claimer of the handle waiting on it, was a sixth of
        // a draining worker's time). What it finds is at hand for the next claim.
        this.recheck(lane);
        continue;
      }
      const pulled = await new Promise<Msg | undefined>((resolve, reject) => {
        lane.waiting.push({ resolve, reject });
        this.topUp(lane);
      });
      if (pulled) {
        this.took(lane, Date.now());
        return { lane, msg: pulled };
      }
    }
    return undefined;
  }

  /** Pull one doorbell of a lane believed empty, with nobody waiting for it. */
  private recheck(lane: Lane): void {
    if (lane.pulling || this.link.closed) return;
    void this.runPull(lane, 1);
  }

  private took(lane: Lane, now: number): void {
    lane.prefetch = now - lane.lastTake < PREFETCH_WHEN_CLAIMS_WITHIN_MS ? PREFETCH : 0;
    lane.lastTake = now;
    this.topUp(lane);
  }

  /** Start a pull if claimers wait, or (prefetching) the buffer runs low. */
  private topUp(lane: Lane): void {
    if (lane.pulling || this.link.closed) return;
    const prefetch = lane.full ? lane.prefetch : 0;
    const ahead = prefetch > 0 && lane.buffer.length <= prefetch / 2 ? prefetch - lane.buffer.length : 0;
    const want = lane.waiting.length + ahead;
    if (want > 0) void this.runPull(lane, Math.min(want, 256));
  }

  private async runPull(lane: Lane, want: number): Promise<void> {
    lane.pulling = true;
    let got = 0;
    try {
      got = await this.pullLane(lane, want);
      lane.full = got >= want;
      if (!lane.full) lane.emptyAt = Date.now();
    } catch (error) {
      for (const w of lane.waiting.splice(0)) w.reject(error);
    } finally {
      lane.pulling = false;
    }
    // Claimers still waiting: the server had no more (then none for them now), or they came
    // after the pull was sized (then pull again).
    if (got < want) for (const w of lane.waiting.splice(0)) w.resolve(undefined);
    else this.topUp(lane);
  }

  /** A doorbell, or the status that ends a pull, arrived on a lane's reply subscription. */
  private onDoorbell(lane: Lane, msg: Msg): void {
    const code = msg.headers?.code ?? 0;
    const pull = lane.pull;
    if (code >= 300 || !msg.reply) {
      // 404 no messages, 408 request expired, 409 limits/consumer deleted: no more for now.
      if (pull && msg.subject === `${lane.inbox}.${pull.token}`)
        pull.finish(code === 503 ? new NoRespondersError(lane.next) : undefined);
      return;
    }
    if (pull) pull.got++;
    const waiter = lane.waiting.shift();
    if (waiter) waiter.resolve(msg);
    else {
      lane.buffer.push(msg);
      this.holdAhead(lane);
    }
    if (pull && pull.got >= pull.want) pull.finish();
  }

  /** Doorbells fetched ahead and not taken soon go back (NAK), so other claimers get them at once. */
  private holdAhead(lane: Lane): void {
    if (lane.idleTimer) return;
    lane.idleTimer = setTimeout(() => {
      lane.idleTimer = undefined;
      if (!lane.buffer.length) return;
      if (Date.now() - lane.lastTake < PREFETCH_HOLD_MS) return this.holdAhead(lane);
      for (const msg of lane.buffer.splice(0)) this.ack(msg, "-NAK");
    }, PREFETCH_HOLD_MS);
    lane.idleTimer.unref();
  }

  /** Pull up to `want` doorbells of a lane without waiting; how many came. */
  private async pullLane(lane: Lane, want: number): Promise<number> {
    const { link } = this;
    for (let attempt = 0; ; attempt++) {
      await this.ensureConsumer(lane.node, lane.priority);
      try {
        return await link.io(
          "pull from an inbox",
          () => this.pullOnce(lane, want),
          (error) => isTransient(error) && !isNoResponders(error) && !isTimeout(error),
        );
      } catch (error) {
        // A no-wait pull answers at once unless its consumer is gone (deleted, or a wiped
        // store): then nobody answers. Make the consumer, and the stream, again.
        this.consumers.delete(link.names.durable(lane.node, lane.priority));
        if (attempt >= 2 || !(isNoResponders(error) || isTimeout(error))) throw error;
        await link.io("create the work stream", () => link.ensureWorkStream());
      }
    }
  }

  private pullOnce(lane: Lane, want: number): Promise<number> {
    const token = (++lane.seq).toString(36);
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => finish(new TimeoutError()), 3_000);
      const finish = (error?: Error) => {
        if (lane.pull?.token !== token) return;
        clearTimeout(timer);
        const got = lane.pull.got;
        lane.pull = undefined;
        if (error && got === 0) reject(error);
        else resolve(got);
      };
      lane.pull = { token, want, got: 0, finish };
      // Doorbells that arrive after this pull gave up still land in the lane (same subscription).
      this.link.wire.send(
        lane.next,
        JSON.stringify({ batch: want, no_wait: true }),
        `${lane.inbox}.${token}`,
      );
    });
  }

  private ensureConsumer(node: string, priority: Priority): Promise<void> {
    const { link } = this;
    const durable = link.names.durable(node, priority);
    let ready = this.consumers.get(durable);
    if (!ready) {
      ready = link.io("create an inbox consumer", () =>
        addInboxConsumer(link.jsm, link.names, node, priority),
      );
      this.consumers.set(durable, ready);
      ready.catch(() => this.consumers.delete(durable));
    }
    return ready;
  }

  ack(msg: Msg, verb = "+ACK"): void {
    // If the connection is gone, the doorbell comes back after its ack wait, and stale ones are harmless.
    if (msg.reply) this.link.wire.send(msg.reply, verb);
  }

  /** Drop the stored doorbells of one subject (of a task that has moved on). */
  async dropDoorbells(subject: string): Promise<void> {
    const { link } = this;
    for (let i = 0; i < 10; i++) {
      try {
        const stored = await link.io("find a doorbell", () =>
          link.jsm.streams.getMessage(link.names.workStream, { last_by_subj: subject }),
        );
        if (!stored) return;
        // Never a filtered purge: on server 2.9 it moves work-queue consumers past other subjects' messages.
        await link.io("drop a doorbell", () =>
          link.jsm.streams.deleteMessage(link.names.workStream, stored.seq, false),
        );
      } catch (error) {
        if (isApiError(error, 10037)) return; // no message
        throw error;
      }
    }
  }

  /** Stop every lane; doorbells fetched ahead go back at once rather than after their ack wait. */
  close(): void {
    const nc = this.link.connection;
    for (const lane of this.lanes.values()) {
      clearTimeout(lane.idleTimer);
      lane.pull?.finish(new Error("the blackboard was closed"));
      for (const w of lane.waiting.splice(0)) w.resolve(undefined);
      for (const msg of lane.buffer.splice(0))
        if (msg.reply && nc && !nc.isClosed()) {
          try {
            nc.publish(msg.reply, "-NAK");
          } catch {
            // gone anyway: they come back after the ack wait
          }
        }
    }
    this.lanes.clear();
  }
}
