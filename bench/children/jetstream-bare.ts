/**
 * The floor the NATS driver is held to (issue 18): a bare JetStream work queue on the same
 * server, with no blackboard semantics. One work-queue stream and one durable pull consumer
 * with explicit acks; enqueue publishes the task JSON with its id as the message id (the
 * server drops a duplicate, as the driver's enqueue is exactly-once); each worker process
 * pulls in batches of 16 (as the driver fetches doorbells ahead) and a task is done when its
 * ack is confirmed by the server (ackAck: the driver's completion is confirmed too). No lease,
 * no fencing, no result record, no priorities: what JetStream costs alone.
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

export interface BareClaim {
  request: TaskRequest;
  msg: JsMsg;
}

export class BareWorkQueue {
  private nc!: NatsConnection;
  private js!: JetStreamClient;
  private jsm!: JetStreamManager;
  private messages: ConsumerMessages | undefined;
  private readonly buffer: JsMsg[] = [];
  private readonly watchers = new Set<() => void>();

  constructor(private readonly server: string) {}

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
    await this.jsm.consumers.add(STREAM, {
      durable_name: DURABLE,
      ack_policy: AckPolicy.Explicit,
      max_ack_pending: 20_000,
    });
  }

  async enqueue(request: TaskRequest): Promise<{ created: boolean }> {
    const ack = await this.js.publish(SUBJECT, JSON.stringify(request), { msgID: request.id });
    return { created: !ack.duplicate };
  }

  /** The next pulled task, or undefined when none is at hand (watch() says when one arrives). */
  async claim(_node: string): Promise<BareClaim | undefined> {
    if (!this.messages) await this.startPulling();
    const msg = this.buffer.shift();
    return msg ? { request: msg.json<TaskRequest>(), msg } : undefined;
  }

  async complete(claim: BareClaim): Promise<boolean> {
    return claim.msg.ackAck();
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
