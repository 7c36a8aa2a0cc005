/**
 * HTTP client for one OpenClaw gateway (ARCHITECTURE.md §5): probes, the token check and a
 * streamed chat turn. Every failure becomes a GatewayError whose message and hint
 * say what is wrong and how to fix it, without ever echoing the token.
 */
import type { Readable } from "node:stream";
import type { Dispatcher } from "undici";
import { z } from "zod";
import { checkChatChunk, checkModelList } from "../domain/fast-checks.js";
import { lazySchema } from "../domain/lazy-schema.js";
import {
  formatBytes,
  MAX_ERROR_BODY_BYTES,
  MAX_JSON_BYTES,
  parseJson,
  readCapped,
  streamWireLimit,
  TooLarge,
} from "./body-limits.js";
import { type FailedCall, GatewayFailures } from "./gateway-failures.js";
import { clientClosed, type HttpReply, LOOPBACK_HOSTS, LoopbackHttp } from "./loopback-http.js";
import { MAX_SSE_EVENT_CHARS, SseParser } from "./sse-parser.js";

export { GatewayError, type GatewayErrorKind } from "./gateway-error.js";

export interface GatewayTarget {
  nodeId: string;
  host: string;
  port: number;
  token?: string;
  /** Human label like "token file ~/.clawos/tokens/alpha" — never the token. */
  tokenSource: string;
  /** OpenClaw profile; null = the default ~/.openclaw. */
  profile: string | null;
  agent: string;
  /** The gateway's log file when it is on this machine (named by every "check its log"). */
  logFile?: string;
  /** What starts the gateway when it is on this machine (named by the "not running" hint). */
  startCommand?: string;
}

export interface GatewayClientOptions {
  /** Limit for a whole chat turn, request to [DONE]. Default 10 minutes. */
  timeoutMs?: number;
  /**
   * Longest silence inside a streamed reply: no complete SSE line (a keep-alive comment counts)
   * for this long ends the turn. Default 5 minutes: OpenClaw writes nothing while its agent thinks
   * or runs a tool, so a healthy turn can be silent for minutes.
   */
  streamIdleMs?: number;
  /** Limit for /health, /startupz and /v1/models. Default 3 s. */
  probeTimeoutMs?: number;
  /** TCP connect limit for the own pool. Default 5 s. */
  connectTimeoutMs?: number;
  /** Used instead of the own pool (e.g. an SSH tunnel); the client does not close it. */
  dispatcher?: Dispatcher;
  /** Cap on a chat reply's text. Default 8 MiB; the stream on the wire may be 4× that. */
  maxReplyBytes?: number;
}

export interface ChatRequest {
  text: string;
  /** Stable id: the gateway keeps one session per user (agent:<agent>:openai-user:<user>). */
  user?: string;
  signal?: AbortSignal;
  onDelta?: (delta: string) => void;
  /** Overrides the client's timeoutMs for this turn. */
  timeoutMs?: number;
}

export interface ChatResult {
  text: string;
  model?: string;
  /** Tokens of the turn, from the trailing usage chunk (absent when the gateway sent none). */
  usage?: { prompt: number; completion: number };
}

/** How long a stream may linger after [DONE] before the connection is dropped. */
const AFTER_DONE_GRACE_MS = 1000;

/** A gateway's /v1/models reply (exported for the fast check's test). */
export const ModelList = lazySchema(
  () => z.object({ data: z.array(z.object({ id: z.string() })) }),
  checkModelList,
);
/** OpenAI's usage object; anything else in it (cached tokens, totals) is ignored. */
const Usage = lazySchema(() =>
  z
    .object({ prompt_tokens: z.number().int().min(0), completion_tokens: z.number().int().min(0) })
    .nullish()
    .catch(undefined),
);
// The same clock as performance.now(), whose first use loads perf_hooks (~2 ms of a `status`).
const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;
const usageOf = (usage: z.infer<typeof Usage>): Pick<ChatResult, "usage"> =>
  usage ? { usage: { prompt: usage.prompt_tokens, completion: usage.completion_tokens } } : {};
/** Each event of a streamed turn; checkChatChunk answers the common ones without building it. */
export const ChatChunk = lazySchema(
  () =>
    z.object({
      model: z.string().optional(),
      usage: Usage,
      choices: z.array(z.object({ delta: z.object({ content: z.string().nullish() }).nullish() })).optional(),
      error: z.object({ message: z.string(), type: z.string().optional() }).optional(),
    }),
  checkChatChunk,
);
const ChatCompletion = lazySchema(() =>
  z.object({
    model: z.string().optional(),
    usage: Usage,
    choices: z.array(z.object({ message: z.object({ content: z.string().nullish() }) })).min(1),
  }),
);

interface Call extends FailedCall {
  body?: string;
  auth?: boolean;
  /** Statuses handed to the reader instead of becoming errors. Default [200]. */
  accept?: number[] | "any";
}

/** Thrown from inside onDelta: the caller's own error, passed through unwrapped. */
class CallbackFailure {
  constructor(readonly error: unknown) {}
}

export class GatewayClient {
  readonly target: GatewayTarget;
  private readonly origin: string;
  /** The dispatcher passed in, else the own undici pool, made on the first call that needs it. */
  private dispatcher: Promise<Dispatcher> | undefined;
  /** Without a dispatcher passed in: undici's pool for a gateway on another host, made on first use. */
  private readonly ownPool: (() => Promise<Dispatcher>) | undefined;
  /** A gateway on this machine is reached over node:http: status and dispatch need not load undici. */
  private readonly loopback: LoopbackHttp | undefined;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly streamIdleMs: number;
  private readonly probeTimeoutMs: number;
  private readonly maxReplyBytes: number;
  private readonly failures: GatewayFailures;

  constructor(target: GatewayTarget, options: GatewayClientOptions = {}) {
    this.target = target;
    const host = target.host.includes(":") ? `[${target.host}]` : target.host;
    this.origin = `http://${host}:${target.port}`;
    this.timeoutMs = options.timeoutMs ?? 10 * 60_000;
    this.streamIdleMs = options.streamIdleMs ?? 5 * 60_000;
    this.probeTimeoutMs = options.probeTimeoutMs ?? 3_000;
    this.maxReplyBytes = options.maxReplyBytes ?? 8 * 1024 * 1024;
    const connect = { timeout: options.connectTimeoutMs ?? 5_000 };
    if (options.dispatcher) {
      this.dispatcher = Promise.resolve(options.dispatcher);
    } else {
      this.ownPool = async () => {
        const { Pool } = await import("./undici-pool.js");
        return new Pool(this.origin, { connections: 8, connect });
      };
    }
    // Through a custom dispatcher (an SSH tunnel) "127.0.0.1" is the remote machine.
    const local = this.ownPool !== undefined && LOOPBACK_HOSTS.includes(target.host);
    if (local) this.loopback = new LoopbackHttp(target.host, target.port, connect.timeout);
    this.failures = new GatewayFailures(target, this.streamIdleMs, local);
  }

  /** GET /health. Throws when nothing answers; `ok` is false when something answers but not `{ok:true}`. */
  async health(signal?: AbortSignal): Promise<{ ok: boolean; latencyMs: number }> {
    const started = monotonicMs();
    return this.call(
      { method: "GET", path: "/health", timeoutMs: this.probeTimeoutMs, signal, accept: "any" },
      async (response) => {
        const body = await readCapped(response.body, MAX_ERROR_BODY_BYTES, true);
        const latencyMs = Math.round((monotonicMs() - started) * 100) / 100;
        return { ok: response.statusCode === 200 && parseJson(body)?.ok === true, latencyMs };
      },
    );
  }

  async startupz(signal?: AbortSignal): Promise<"started" | "starting"> {
    return this.call(
      { method: "GET", path: "/startupz", timeoutMs: this.probeTimeoutMs, signal, accept: [200, 503] },
      async (response) => {
        await readCapped(response.body, MAX_ERROR_BODY_BYTES, true);
        return response.statusCode === 200 ? "started" : "starting";
      },
    );
  }

  /** GET /v1/models with the token: checks token and endpoint at no model cost. */
  async models(signal?: AbortSignal): Promise<string[]> {
    return this.call(
      { method: "GET", path: "/v1/models", auth: true, timeoutMs: this.probeTimeoutMs, signal },
      async (response) => {
        const parsed = ModelList.safeParse(parseJson(await this.readJsonBody(response.body)));
        if (!parsed.success) throw this.failures.badResponse("GET /v1/models did not return a model list");
        return parsed.data.data.map((model) => model.id);
      },
    );
  }

  /** One streamed turn on the node's agent. */
  async chat(request: ChatRequest): Promise<ChatResult> {
    const progress = { text: "", bytes: 0 };
    const body = JSON.stringify({
      model: `openclaw/${this.target.agent}`,
      messages: [{ role: "user", content: request.text }],
      user: request.user,
      stream: true,
      // OpenClaw then sends a last chunk with the turn's tokens, before [DONE].
      stream_options: { include_usage: true },
    });
    const call: Call = {
      method: "POST",
      path: "/v1/chat/completions",
      body,
      auth: true,
      timeoutMs: request.timeoutMs ?? this.timeoutMs,
      signal: request.signal,
    };
    const emit = (delta: string | null | undefined) => {
      if (!delta) return;
      if (request.signal?.aborted) throw request.signal.reason; // no deltas after the caller gave up
      progress.bytes += Buffer.byteLength(delta);
      if (progress.bytes > this.maxReplyBytes) {
        throw this.failures.badResponse(
          `the reply is larger than ${formatBytes(this.maxReplyBytes)}`,
          progress.text,
        );
      }
      progress.text += delta;
      try {
        request.onDelta?.(delta);
      } catch (error) {
        throw new CallbackFailure(error);
      }
    };
    return this.call(
      call,
      async (response) => {
        const type = String(response.headers["content-type"] ?? "");
        if (!type.includes("text/event-stream")) {
          // A gateway may answer a stream request with a plain completion; accept it.
          const parsed = ChatCompletion.safeParse(parseJson(await this.readJsonBody(response.body)));
          if (!parsed.success) {
            throw this.failures.badResponse("the chat reply is neither an SSE stream nor a completion");
          }
          emit(parsed.data.choices[0]?.message.content);
          return { text: progress.text, model: parsed.data.model, ...usageOf(parsed.data.usage) };
        }
        return this.readStream(response.body, progress, emit);
      },
      progress,
    );
  }

  /** Closes the own pool (not a dispatcher passed in); in-flight requests fail as `aborted`. */
  async close(): Promise<void> {
    this.closed = true;
    this.loopback?.close();
    if (this.ownPool) await (await this.dispatcher)?.destroy();
  }

  private async readStream(
    body: Readable,
    progress: { text: string },
    emit: (delta: string | null | undefined) => void,
  ): Promise<ChatResult> {
    const parser = new SseParser(MAX_SSE_EVENT_CHARS);
    const wireLimit = streamWireLimit(this.maxReplyBytes);
    let wireBytes = 0;
    let model: string | undefined;
    let usage: Pick<ChatResult, "usage"> = {};
    let done = false;
    let grace: NodeJS.Timeout | undefined;
    let idle: NodeJS.Timeout | undefined;
    // Restarted by every complete line, so a trickle of bytes that never finishes one does not count.
    const watchIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => body.destroy(this.failures.idleError(progress.text)), this.streamIdleMs);
    };

    const handle = (events: string[]) => {
      for (const data of events) {
        if (data === "[DONE]") {
          done = true;
          return;
        }
        const chunk = ChatChunk.safeParse(parseJson(data));
        if (!chunk.success) {
          throw this.failures.badResponse("an SSE event is not a chat.completion.chunk", progress.text);
        }
        if (chunk.data.error) throw this.failures.streamedError(chunk.data.error, progress.text);
        model ??= chunk.data.model;
        if (chunk.data.usage) usage = usageOf(chunk.data.usage);
        emit(chunk.data.choices?.[0]?.delta?.content);
      }
    };
    const parse = (feed: () => string[]) => {
      try {
        return feed();
      } catch (error) {
        throw this.failures.badResponse((error as Error).message, progress.text);
      }
    };

    try {
      watchIdle();
      for await (const bytes of body as AsyncIterable<Buffer>) {
        if (done) continue; // drain what follows [DONE] so the connection can be reused
        wireBytes += bytes.length;
        if (wireBytes > wireLimit) {
          throw this.failures.badResponse(`the stream exceeded ${formatBytes(wireLimit)}`, progress.text);
        }
        const lines = parser.lines;
        handle(parse(() => parser.push(bytes)));
        if (parser.lines !== lines) watchIdle();
        if (done) {
          clearTimeout(idle);
          grace = setTimeout(() => body.destroy(), AFTER_DONE_GRACE_MS);
        }
      }
    } catch (error) {
      if (!done) throw error;
    } finally {
      clearTimeout(grace);
      clearTimeout(idle);
    }
    if (!done) handle(parse(() => parser.end()));
    if (!done) throw this.failures.badResponse("the stream ended without data: [DONE]", progress.text);
    return { text: progress.text, model, ...usage };
  }

  /** Runs one request under a deadline and the caller's signal, mapping every failure. */
  private async call<T>(
    call: Call,
    read: (response: HttpReply) => Promise<T>,
    progress?: { text: string },
  ): Promise<T> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, call.timeoutMs);
    const onAbort = () => controller.abort();
    call.signal?.addEventListener("abort", onAbort, { once: true });
    if (call.signal?.aborted) controller.abort();
    let response: HttpReply | undefined;
    try {
      const headers: Record<string, string> = { accept: "application/json, text/event-stream" };
      if (call.body !== undefined) headers["content-type"] = "application/json";
      if (call.auth && this.target.token) headers.authorization = `Bearer ${this.target.token}`;
      const request = { path: call.path, method: call.method, headers, body: call.body ?? null };
      response = this.loopback
        ? await this.loopback.request({ ...request, signal: controller.signal })
        : await (await this.undici()).request({
            ...request,
            origin: this.origin,
            signal: controller.signal,
            headersTimeout: call.timeoutMs,
            bodyTimeout: call.timeoutMs,
          });
      const accepted = call.accept ?? [200];
      if (accepted !== "any" && !accepted.includes(response.statusCode)) {
        const text = await readCapped(response.body, MAX_ERROR_BODY_BYTES, true);
        throw this.failures.statusError(call, response.statusCode, text);
      }
      return await read(response);
    } catch (error) {
      if (error instanceof CallbackFailure) throw error.error;
      throw this.failures.classify(error, call, {
        timedOut,
        responded: response !== undefined,
        partial: progress?.text,
      });
    } finally {
      clearTimeout(timer);
      call.signal?.removeEventListener("abort", onAbort);
      if (response && !response.body.readableEnded) response.body.destroy();
    }
  }

  private undici(): Promise<Dispatcher> {
    // Closed before its first turn: fail as a request on the closed pool would.
    if (!this.dispatcher && this.closed) return Promise.reject(clientClosed());
    this.dispatcher ??= (this.ownPool as () => Promise<Dispatcher>)();
    return this.dispatcher;
  }

  private async readJsonBody(body: Readable): Promise<string> {
    try {
      return await readCapped(body, MAX_JSON_BYTES, false);
    } catch (error) {
      if (error instanceof TooLarge)
        throw this.failures.badResponse(`the body is larger than ${formatBytes(MAX_JSON_BYTES)}`);
      throw error;
    }
  }
}
