/**
 * The floor the NATS driver is held to (issue 18): a bare JetStream work queue on the same
 * server, with no blackboard semantics. One work-queue stream and one durable pull consumer
 * with explicit acks; enqueue publishes the task JSON with its id as the message id (the
 * server drops a duplicate, as the driver's enqueue is exactly-once); each worker process
 * pulls in batches of 16 (as the driver fetches doorbells ahead) and a task is done when its
 * ack is confirmed by the server (ackAck: the driver's completion is confirmed too). No lease,
 * no fencing, no result record, no priorities: what JetStream costs alone.
 *
 * `fenced` adds what the driver's protocol asks of the server on top of that, through the
 * same client library: a record per task in a one-revision stream, created at enqueue (its
 * revision rides in the message), taken to claimed by a compare-and-set on that revision when
 * the message is pulled (then acked without waiting), and to finished by a second one. No
 * validation, no leases, no priorities, no retries: the floor of the fenced protocol itself.
 *
 * It has the handful of Blackboard methods bench/suites/nats-vs-directory.ts calls.
 */
import {
  AckPolicy,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { TaskRequest } from "../../source/core/domain/schema.js";

const STREAM = "BARE";
const SUBJECT = "bare.tasks";
const DURABLE = "bare-workers";
const BATCH = 16;
const RECORDS = "BARE_RECORDS";

export interface BareClaim {
  request: TaskRequest;
  msg: JsMsg;
  /** fenced: the record's revision the claim wrote. */
  rev?: number;
}

export class BareWorkQueue {
  private nc!: NatsConnection;
  private js!: JetStreamClient;
  private jsm!: JetStreamManager;
  private messages: ConsumerMessages | undefined;
  private readonly buffer: JsMsg[] = [];
  private readonly watchers = new Set<() => void>();

  constructor(
    private readonly server: string,
    private readonly fenced = false,
  ) {}

  async init(): Promise<void> {
    this.nc = await connect({ servers: [this.server] });
    this.js = jetstream(this.nc);
    this.jsm = await jetstreamManager(this.nc);
    const exists = await this.jsm.streams.info(STREAM).then(
      () => true,
      () => false,
    );
    if (!exists)
      await this.jsm.streams.add({
        name: STREAM,
        subjects: [SUBJECT],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
      });
    if (
      this.fenced &&
      !(await this.jsm.streams.info(RECORDS).then(
        () => true,
        () => false,
      ))
    )
      await this.jsm.streams.add({
        name: RECORDS,
        subjects: ["bare.records.>"],
        max_msgs_per_subject: 1,
        storage: StorageType.File,
      });
    await this.jsm.consumers.add(STREAM, {
      durable_name: DURABLE,
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 20_000,
    });
  }

  async enqueue(request: TaskRequest): Promise<{ created: boolean }> {
    let body = JSON.stringify(request);
    if (this.fenced) {
      const rev = await this.write(request.id, { state: "pending", request }, 0);
      body = JSON.stringify({ rev, request });
    }
    const ack = await this.js.publish(SUBJECT, body, { msgID: request.id });
    return { created: !ack.duplicate };
  }

  /** fenced: the record of task `id` written over revision `over` (0: it must not exist); its new revision. */
  private async write(id: string, record: unknown, over: number): Promise<number> {
    const ack = await this.js.publish(`bare.records.${id}`, JSON.stringify(record), {
      expect: { lastSubjectSequence: over },
    });
    return ack.seq;
  }

  /** The next pulled task, or undefined when none is at hand (watch() says when one arrives). */
  async claim(_node: string): Promise<BareClaim | undefined> {
    if (!this.messages) await this.startPulling();
    const msg = this.buffer.shift();
    if (!msg) return undefined;
    if (!this.fenced) return { request: msg.json<TaskRequest>(), msg };
    const { rev, request } = msg.json<{ rev: number; request: TaskRequest }>();
    const claimed = await this.write(request.id, { state: "claimed", request }, rev);
    msg.ack();
    return { request, msg, rev: claimed };
  }

  async complete(claim: BareClaim): Promise<boolean> {
    if (!this.fenced) return claim.msg.ackAck();
    await this.write(claim.request.id, { state: "finished", request: claim.request }, claim.rev!);
    return true;
  }

  watch(_filter: unknown, onChange: () => void): () => void {
    this.watchers.add(onChange);
    return () => this.watchers.delete(onChange);
  }

  /** Completed = every message the stream took in and no longer holds (acked away). */
  async list(_options: unknown): Promise<{ counts: { completed: number } }> {
    const { state } = await this.jsm.streams.info(STREAM);
    return { counts: { completed: state.last_seq - state.messages } };
  }

  async close(): Promise<void> {
    this.messages?.stop();
    await this.nc.drain();
  }

  private async startPulling(): Promise<void> {
    const consumer = await this.js.consumers.get(STREAM, DURABLE);
    const messages = await consumer.consume({ max_messages: BATCH });
    this.messages = messages;
    void (async () => {
      for await (const msg of messages) {
        this.buffer.push(msg);
        for (const w of this.watchers) w();
      }
    })();
  }
}
