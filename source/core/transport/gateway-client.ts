/**
 * HTTP client for one OpenClaw gateway (ARCHITECTURE.md §5): probes, the token check and a
 * streamed chat turn. Every failure becomes a GatewayError whose message and hint
 * say what is wrong and how to fix it, without ever echoing the token.
 */
import { type Dispatcher, Pool } from "undici";
import { z } from "zod";
import { UserError } from "../domain/errors.js";
import { sanitizeLine } from "../infra/sanitize.js";

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
}

export type GatewayErrorKind =
  | "unreachable"
  | "timeout"
  /** The caller's AbortSignal fired, or the client was closed. */
  | "aborted"
  | "unauthorized"
  | "endpoint_disabled"
  | "unknown_agent"
  | "provider_timeout"
  | "starting"
  | "bad_response"
  | "http_error";

const RETRYABLE: Record<GatewayErrorKind, boolean> = {
  unreachable: true,
  timeout: true,
  aborted: false,
  unauthorized: false,
  endpoint_disabled: false,
  unknown_agent: false,
  provider_timeout: true,
  starting: true,
  bad_response: false,
  http_error: false,
};

export class GatewayError extends UserError {
  readonly kind: GatewayErrorKind;
  readonly retryable: boolean;
  readonly nodeId: string;
  /** HTTP status when the gateway answered with one. */
  readonly status: number | undefined;
  /** Reply text streamed before a chat failed. */
  readonly partialText: string | undefined;
  constructor(
    kind: GatewayErrorKind,
    message: string,
    options: {
      nodeId: string;
      hint?: string;
      status?: number;
      partialText?: string;
      retryable?: boolean;
      cause?: unknown;
    },
  ) {
    super(message, { hint: options.hint, code: `gateway_${kind}`, cause: options.cause });
    this.name = "GatewayError";
    this.kind = kind;
    this.nodeId = options.nodeId;
    this.status = options.status;
    this.partialText = options.partialText || undefined;
    this.retryable = options.retryable ?? RETRYABLE[kind];
  }
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
}

const MAX_JSON_BYTES = 1024 * 1024;
const MAX_ERROR_BODY_BYTES = 64 * 1024;
const MAX_SSE_EVENT_CHARS = 1024 * 1024;
/** How long a stream may linger after [DONE] before the connection is dropped. */
const AFTER_DONE_GRACE_MS = 1000;

const ModelList = z.object({ data: z.array(z.object({ id: z.string() })) });
const ChatChunk = z.object({
  model: z.string().optional(),
  choices: z.array(z.object({ delta: z.object({ content: z.string().nullish() }).nullish() })).optional(),
  error: z.object({ message: z.string() }).optional(),
});
const ChatCompletion = z.object({
  model: z.string().optional(),
  choices: z.array(z.object({ message: z.object({ content: z.string().nullish() }) })).min(1),
});

interface Call {
  method: "GET" | "POST";
  path: string;
  body?: string;
  auth?: boolean;
  timeoutMs: number;
  signal: AbortSignal | undefined;
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
  private readonly dispatcher: Dispatcher;
  private readonly ownPool: Pool | undefined;
  private readonly timeoutMs: number;
  private readonly streamIdleMs: number;
  private readonly probeTimeoutMs: number;
  private readonly maxReplyBytes: number;

  constructor(target: GatewayTarget, options: GatewayClientOptions = {}) {
    this.target = target;
    const host = target.host.includes(":") ? `[${target.host}]` : target.host;
    this.origin = `http://${host}:${target.port}`;
    this.timeoutMs = options.timeoutMs ?? 10 * 60_000;
    this.streamIdleMs = options.streamIdleMs ?? 5 * 60_000;
    this.probeTimeoutMs = options.probeTimeoutMs ?? 3_000;
    this.maxReplyBytes = options.maxReplyBytes ?? 8 * 1024 * 1024;
    if (options.dispatcher) {
      this.dispatcher = options.dispatcher;
    } else {
      this.ownPool = new Pool(this.origin, {
        connections: 8,
        connect: { timeout: options.connectTimeoutMs ?? 5_000 },
      });
      this.dispatcher = this.ownPool;
    }
  }

  /** GET /health. Throws when nothing answers; `ok` is false when something answers but not `{ok:true}`. */
  async health(signal?: AbortSignal): Promise<{ ok: boolean; latencyMs: number }> {
    const started = performance.now();
    return this.call(
      { method: "GET", path: "/health", timeoutMs: this.probeTimeoutMs, signal, accept: "any" },
      async (response) => {
        const body = await readCapped(response.body, MAX_ERROR_BODY_BYTES, true);
        const latencyMs = Math.round((performance.now() - started) * 100) / 100;
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
        if (!parsed.success) throw this.badResponse("GET /v1/models did not return a model list");
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
        throw this.badResponse(`the reply is larger than ${formatBytes(this.maxReplyBytes)}`, progress.text);
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
            throw this.badResponse("the chat reply is neither an SSE stream nor a completion");
          }
          emit(parsed.data.choices[0]?.message.content);
          return { text: progress.text, model: parsed.data.model };
        }
        return this.readStream(response.body, progress, emit);
      },
      progress,
    );
  }

  /** Closes the own pool (not a dispatcher passed in); in-flight requests fail as `aborted`. */
  async close(): Promise<void> {
    await this.ownPool?.destroy();
  }

  private async readStream(
    body: Dispatcher.ResponseData["body"],
    progress: { text: string },
    emit: (delta: string | null | undefined) => void,
  ): Promise<ChatResult> {
    const parser = new SseParser(MAX_SSE_EVENT_CHARS);
    const wireLimit = this.maxReplyBytes * 4 + MAX_JSON_BYTES;
    let wireBytes = 0;
    let model: string | undefined;
    let done = false;
    let grace: NodeJS.Timeout | undefined;
    let idle: NodeJS.Timeout | undefined;
    // Restarted by every complete line, so a trickle of bytes that never finishes one does not count.
    const watchIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => body.destroy(this.idleError(progress.text)), this.streamIdleMs);
    };

    const handle = (events: string[]) => {
      for (const data of events) {
        if (data === "[DONE]") {
          done = true;
          return;
        }
        const chunk = ChatChunk.safeParse(parseJson(data));
        if (!chunk.success) {
          throw this.badResponse("an SSE event is not a chat.completion.chunk", progress.text);
        }
        if (chunk.data.error) {
          // Real OpenClaw streams provider failures as 200 + `data: {"error":…}` (verified on 2026.9.6).
          if (/provider|timeout|upstream/i.test(chunk.data.error.message ?? "")) {
            throw this.fail(
              "provider_timeout",
              `Node ${this.target.nodeId}'s model provider failed mid-reply: ${this.clean(chunk.data.error.message)}.`,
              {
                hint: "The gateway runs but its model provider is down or unreachable; check models.providers in its openclaw.json.",
                partialText: progress.text,
              },
            );
          }
          throw this.fail(
            "http_error",
            `Node ${this.target.nodeId}'s gateway reported an error mid-reply: ${this.clean(chunk.data.error.message)}.`,
            {
              hint: "Check the gateway's log; the partial reply is kept on the task.",
              partialText: progress.text,
            },
          );
        }
        model ??= chunk.data.model;
        emit(chunk.data.choices?.[0]?.delta?.content);
      }
    };
    const parse = (feed: () => string[]) => {
      try {
        return feed();
      } catch (error) {
        throw this.badResponse((error as Error).message, progress.text);
      }
    };

    try {
      watchIdle();
      for await (const bytes of body as AsyncIterable<Buffer>) {
        if (done) continue; // drain what follows [DONE] so the connection can be reused
        wireBytes += bytes.length;
        if (wireBytes > wireLimit) {
          throw this.badResponse(`the stream exceeded ${formatBytes(wireLimit)}`, progress.text);
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
    if (!done) throw this.badResponse("the stream ended without data: [DONE]", progress.text);
    return { text: progress.text, model };
  }

  /** Runs one request under a deadline and the caller's signal, mapping every failure. */
  private async call<T>(
    call: Call,
    read: (response: Dispatcher.ResponseData) => Promise<T>,
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
    let response: Dispatcher.ResponseData | undefined;
    try {
      const headers: Record<string, string> = { accept: "application/json, text/event-stream" };
      if (call.body !== undefined) headers["content-type"] = "application/json";
      if (call.auth && this.target.token) headers.authorization = `Bearer ${this.target.token}`;
      response = await this.dispatcher.request({
        origin: this.origin,
        path: call.path,
        method: call.method,
        headers,
        body: call.body ?? null,
        signal: controller.signal,
        headersTimeout: call.timeoutMs,
        bodyTimeout: call.timeoutMs,
      });
      const accepted = call.accept ?? [200];
      if (accepted !== "any" && !accepted.includes(response.statusCode)) {
        const text = await readCapped(response.body, MAX_ERROR_BODY_BYTES, true);
        throw this.statusError(call, response.statusCode, text);
      }
      return await read(response);
    } catch (error) {
      if (error instanceof CallbackFailure) throw error.error;
      throw this.classify(error, call, {
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

  private classify(
    error: unknown,
    call: Call,
    state: { timedOut: boolean; responded: boolean; partial: string | undefined },
  ): GatewayError {
    if (error instanceof GatewayError) return error;
    const { host, port, nodeId } = this.target;
    const request = `${call.method} ${call.path}`;
    const partialText = state.partial;
    if (state.timedOut) {
      return this.fail(
        "timeout",
        `Node ${nodeId} at ${host}:${port} did not finish ${request} within ${formatMs(call.timeoutMs)}.`,
        {
          hint:
            call.method === "POST"
              ? "The gateway or its model may be stuck; check its log. A turn that needs longer wants a larger timing.requestTimeoutMs in federation.json."
              : "The gateway or its machine may be stuck or overloaded; check its log, or retry with a longer timeout.",
          partialText,
          cause: error,
        },
      );
    }
    const code = errorCode(error);
    if (call.signal?.aborted) {
      return this.fail("aborted", `${request} to node ${nodeId} was cancelled.`, {
        partialText,
        cause: error,
      });
    }
    if (code === "UND_ERR_DESTROYED" || code === "UND_ERR_CLOSED") {
      return this.fail("aborted", `${request} to node ${nodeId} was cancelled: the client is closed.`, {
        partialText,
        cause: error,
      });
    }
    if (code === "UND_ERR_CONNECT_TIMEOUT") {
      return this.fail("timeout", `Node ${nodeId} at ${host}:${port} did not accept a connection in time.`, {
        hint: "Is its machine asleep, offline or behind a firewall? Check the node's host and port.",
        cause: error,
      });
    }
    if (code && TIMEOUT_CODES.has(code)) {
      return this.fail(
        "timeout",
        `Node ${nodeId} at ${host}:${port} stopped answering ${request} (${code}).`,
        {
          hint: "The gateway or its machine may be stuck or overloaded; check its log, or retry.",
          partialText,
          cause: error,
        },
      );
    }
    if (state.responded) {
      return this.fail("bad_response", `Node ${nodeId}'s gateway dropped the connection during ${request}.`, {
        hint: "The gateway may have crashed or restarted; check its log and retry.",
        partialText,
        retryable: true,
        cause: error,
      });
    }
    if (code?.startsWith("HPE_")) {
      return this.badResponse(`${host}:${port} does not speak HTTP (${code})`, partialText);
    }
    const start = this.openclaw("gateway run");
    if (code === undefined || NOT_RUNNING_CODES.has(code)) {
      return this.fail(
        "unreachable",
        `The gateway of node ${nodeId} is not running on ${host}:${port} (${code ?? describe(error)}).`,
        {
          hint: this.isLocal() ? `Start it: ${start}` : `Start it on the node's machine: ${start}`,
          cause: error,
        },
      );
    }
    return this.fail("unreachable", `Cannot reach node ${nodeId} at ${host}:${port} (${code}).`, {
      hint: `Check that the machine is awake and on the network and its gateway runs (${start}).`,
      cause: error,
    });
  }

  private idleError(partialText: string): GatewayError {
    const { nodeId, host, port } = this.target;
    return this.fail(
      "timeout",
      `Node ${nodeId} at ${host}:${port} sent nothing for ${formatMs(this.streamIdleMs)} in the middle of its reply.`,
      {
        hint: "The gateway or its model may be stuck; check its log. If its agent runs long silent tools, raise timing.streamIdleMs in federation.json.",
        partialText,
      },
    );
  }

  private statusError(call: Call, status: number, body: string): GatewayError {
    const { nodeId, host, port, agent, tokenSource } = this.target;
    const request = `${call.method} ${call.path}`;
    const serverMessage = this.clean(errorMessage(body) || `HTTP ${status}`);
    const config = this.configPath();
    if (status === 401) {
      return this.target.token
        ? this.fail(
            "unauthorized",
            `Node ${nodeId} at ${host}:${port} rejected the token from ${tokenSource} (401).`,
            {
              // The token came from the profile's own file: then the gateway on that port is not
              // (or no longer) that profile's, or it still runs with an older token.
              hint: tokenSource.startsWith("gateway.auth.token in ")
                ? `${host}:${port} may not be this profile's gateway any more: clawos init picks up a changed port; or restart the gateway if its token changed.`
                : `Make ${tokenSource} match gateway.auth.token in ${config} (or check that ${host}:${port} is really this node's gateway).`,
              status,
            },
          )
        : this.fail(
            "unauthorized",
            `Node ${nodeId} at ${host}:${port} requires a token, but none was sent (${tokenSource}).`,
            {
              hint: `Give node ${nodeId} a token source that holds gateway.auth.token from ${config}.`,
              status,
            },
          );
    }
    if (status === 404 && call.path.startsWith("/v1/")) {
      return this.fail(
        "endpoint_disabled",
        `Node ${nodeId}'s gateway has its chat completions endpoint disabled (404 on ${request}).`,
        {
          hint: `Run: ${this.openclaw("config set gateway.http.endpoints.chatCompletions.enabled true")}`,
          status,
        },
      );
    }
    if (status === 400 && /unknown agent/i.test(serverMessage)) {
      return this.fail(
        "unknown_agent",
        `Node ${nodeId}'s gateway has no agent '${agent}' (${serverMessage}).`,
        {
          hint: `Set node ${nodeId}'s agent to one listed by \`${this.openclaw("agents list")}\`, or create it: ${this.openclaw(`agents add ${agent}`)}`,
          status,
        },
      );
    }
    if (status === 408) {
      return this.fail(
        "provider_timeout",
        `Node ${nodeId}'s model provider did not answer (408: ${serverMessage}).`,
        {
          hint: `The gateway runs but its model provider is down or unreachable; check models.providers and the agent's model in ${config}.`,
          status,
        },
      );
    }
    if (status === 503) {
      return this.fail(
        "starting",
        `The gateway of node ${nodeId} at ${host}:${port} is still starting (503).`,
        {
          hint: "Wait a few seconds and retry; GET /startupz answers 200 once it is ready.",
          status,
        },
      );
    }
    return this.fail(
      "http_error",
      `Node ${nodeId}'s gateway answered ${request} with HTTP ${status}: ${serverMessage}.`,
      {
        hint: "Check the gateway's log on that machine.",
        status,
        retryable: status === 429 || status >= 500,
      },
    );
  }

  private badResponse(detail: string, partialText?: string): GatewayError {
    const { nodeId, host, port } = this.target;
    return this.fail(
      "bad_response",
      `Node ${nodeId} at ${host}:${port} sent a malformed response: ${detail}.`,
      {
        hint: `Check that ${host}:${port} is an OpenClaw gateway (openclaw ≥ 2026.9) and look at its log.`,
        partialText,
      },
    );
  }

  /** Messages are built from our own words plus `clean()`ed server text, so they never hold the token. */
  private fail(
    kind: GatewayErrorKind,
    message: string,
    options: { hint?: string; status?: number; partialText?: string; retryable?: boolean; cause?: unknown },
  ): GatewayError {
    return new GatewayError(kind, message, { ...options, nodeId: this.target.nodeId });
  }

  private async readJsonBody(body: Dispatcher.ResponseData["body"]): Promise<string> {
    try {
      return await readCapped(body, MAX_JSON_BYTES, false);
    } catch (error) {
      if (error instanceof TooLarge)
        throw this.badResponse(`the body is larger than ${formatBytes(MAX_JSON_BYTES)}`);
      throw error;
    }
  }

  /** Untrusted server text made safe for one line of a message. */
  private clean(text: string): string {
    const line = sanitizeLine(this.scrub(text)).trim();
    return line.length > 200 ? `${line.slice(0, 200)}…` : line;
  }

  /** A hostile server may echo the Authorization header back. */
  private scrub(text: string): string {
    const token = this.target.token;
    return token ? text.replaceAll(token, "<token>") : text;
  }

  private openclaw(args: string): string {
    return this.target.profile ? `openclaw --profile ${this.target.profile} ${args}` : `openclaw ${args}`;
  }

  private configPath(): string {
    return this.target.profile
      ? `~/.openclaw-${this.target.profile}/openclaw.json`
      : "~/.openclaw/openclaw.json";
  }

  private isLocal(): boolean {
    // Through a custom dispatcher (an SSH tunnel) "127.0.0.1" is the remote machine.
    return this.ownPool !== undefined && ["127.0.0.1", "localhost", "::1"].includes(this.target.host);
  }
}

/**
 * Incremental SSE decoder: feed bytes split anywhere (even inside a UTF-8 sequence
 * or a CRLF) and get the `data` of each complete event.
 */
export class SseParser {
  private readonly decoder = new TextDecoder("utf-8");
  private buffer = "";
  private data: string[] = [];
  private dataChars = 0;
  /** Complete lines seen so far (blank ones and comments too): the stream's sign of life. */
  lines = 0;

  constructor(private readonly maxEventChars = MAX_SSE_EVENT_CHARS) {}

  push(bytes: Uint8Array): string[] {
    return this.consume(this.decoder.decode(bytes, { stream: true }), false);
  }

  /** The stream ended: flush a last event even if its blank line is missing. */
  end(): string[] {
    return this.consume(`${this.decoder.decode()}\n\n`, true);
  }

  private consume(text: string, final: boolean): string[] {
    this.buffer += text;
    const events: string[] = [];
    // A trailing "\r" may be the first half of "\r\n": keep it until more arrives.
    const lineEnd = final ? /\r\n|\n|\r/g : /\r\n|\n|\r(?!$)/g;
    let start = 0;
    for (let match = lineEnd.exec(this.buffer); match; match = lineEnd.exec(this.buffer)) {
      this.line(this.buffer.slice(start, match.index), events);
      start = match.index + match[0].length;
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length + this.dataChars > this.maxEventChars) {
      throw new Error(`an SSE event is longer than ${this.maxEventChars} characters`);
    }
    return events;
  }

  private line(line: string, events: string[]): void {
    this.lines++;
    if (line === "") {
      if (this.data.length) events.push(this.data.join("\n"));
      this.data = [];
      this.dataChars = 0;
      return;
    }
    if (line.startsWith(":")) return; // comment / keep-alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== "data") return; // event:, id:, retry: carry nothing we use
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    this.data.push(value);
    this.dataChars += value.length;
  }
}

const NOT_RUNNING_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);
const TIMEOUT_CODES = new Set([
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

class TooLarge extends Error {}

/** Reads a body up to `limit` bytes; beyond it, truncates or throws TooLarge. */
async function readCapped(
  body: Dispatcher.ResponseData["body"],
  limit: number,
  truncate: boolean,
): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of body as AsyncIterable<Buffer>) {
    const room = limit - size;
    if (part.length > room) {
      if (!truncate) throw new TooLarge();
      parts.push(part.subarray(0, room));
      break;
    }
    parts.push(part);
    size += part.length;
  }
  return Buffer.concat(parts).toString("utf8");
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `{"error":{"message":…}}` (OpenAI style), `{"message":…}`, or the raw text. */
function errorMessage(body: string): string {
  const json = parseJson(body);
  const error = json?.error;
  if (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { message?: unknown }).message === "string"
  ) {
    return (error as { message: string }).message;
  }
  if (typeof error === "string") return error;
  if (typeof json?.message === "string") return json.message;
  return json ? "" : body;
}

/** The first `code` on the error or its causes (undici wraps socket errors). */
function errorCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? sanitizeLine(error.message).slice(0, 120) : "unknown error";
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${Math.round(bytes / (1024 * 1024))} MiB`
    : `${Math.round(bytes / 1024)} KiB`;
}
