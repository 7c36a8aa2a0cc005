/**
 * A stand-in for an OpenClaw gateway (ARCHITECTURE.md §5) on 127.0.0.1: probes, GET /v1/models
 * with a Bearer check, POST /v1/chat/completions with SSE streaming, and injectable
 * failures. Real HTTP over real sockets, so clients are tested end to end.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";

/** What the stub does; "ok" follows ARCHITECTURE.md §5, the others inject one failure each. */
export const STUB_MODES = [
  "ok",
  "starting", // /startupz, /readyz and /v1/* answer 503
  "unauthorized", // /v1/* answer 401 whatever the token
  "endpoint-disabled", // /v1/* answer 404, as with chatCompletions.enabled false
  "provider-timeout", // chat answers 408 upstream provider timeout
  "no-model-auth", // chat fails as OpenClaw does for a model without credentials: in-band when streamed, else 401 authentication_error
  "model-not-found", // chat answers 404 invalid_request_error: the agent's model is unknown to its provider
  "server-error", // chat answers 500
  "slow", // chat waits `slowMs` before its headers, then streams normally
  "drop", // chat streams about half the reply, then the socket is destroyed
  "hang", // every request is accepted and never answered
  "stall", // chat sends headers and the first delta, then nothing more
  "no-done", // chat streams the whole reply and ends without `data: [DONE]`
  "malformed", // chat sends an event whose data is not JSON
  "forever", // chat streams a delta every `chunkDelayMs` and never ends
  "silent", // chat sends its headers, then nothing (the connection stays open)
  "trickle", // chat streams one byte every `chunkDelayMs` and never ends
] as const;
export type StubMode = (typeof STUB_MODES)[number];

export interface StubGatewayOptions {
  port?: number;
  /** Bearer token /v1/* requires; undefined = no auth. */
  token?: string;
  /** Agent ids `openclaw/<agent>` may name; `openclaw/default` always works. Default ["main"]. */
  agents?: string[];
  /** Fixed reply, or a function of the prompt. Default `echo: <prompt>`. */
  reply?: string | ((prompt: string) => string);
  /** Number of SSE delta events the reply is cut into. Default 4. */
  deltas?: number;
  /** Pause between writes to the socket. Default 0 (a macrotask turn between writes). */
  chunkDelayMs?: number;
  /** Write the SSE stream in pieces of this many bytes, cutting lines and UTF-8 sequences. Default: one write per event. */
  byteChunkSize?: number;
  /** Wait before answering in mode "slow". Default 200. */
  slowMs?: number;
  /** Mode "slow": wait for this instead of `slowMs`, so a test decides when a turn may end. */
  slowUntil?: Promise<unknown>;
  mode?: StubMode;
  /**
   * The tokens a turn reports when the request asks for usage (`stream_options.include_usage`):
   * a function of prompt and reply, or false for a gateway that sends no usage chunk. Default
   * `stubUsage`.
   */
  usage?: false | ((prompt: string, reply: string) => { prompt_tokens: number; completion_tokens: number });
}

/** The stub's token count: one token per code point, so tests can predict it. */
export function stubUsage(prompt: string, reply: string) {
  const prompt_tokens = Array.from(prompt).length;
  const completion_tokens = Array.from(reply).length;
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** Whether the Bearer token matched (always true when the stub has no token). */
  authorized: boolean;
  model?: string;
  user?: string;
  stream?: boolean;
  /** Content of the last user message. */
  prompt?: string;
  /** Whether the request asked for a usage chunk (stream_options.include_usage). */
  includeUsage?: boolean;
}

export interface StubGateway {
  port: number;
  url: string;
  requests: RecordedRequest[];
  /** TCP connections accepted so far (keep-alive checks). */
  readonly connections: number;
  setMode(mode: StubMode): void;
  configure(options: Omit<StubGatewayOptions, "port">): void;
  close(): Promise<void>;
}

const MAX_REQUEST_BYTES = 1024 * 1024;
const NOT_FOUND = { error: { message: "Not Found", type: "not_found" } };
/** OpenClaw 2026.9.6's words for a model with no credentials (provider-model-route-auth). */
const NO_AUTH = "No route-compatible authentication source is configured for openai.";

export async function startStubGateway(options: StubGatewayOptions = {}): Promise<StubGateway> {
  const settings: StubGatewayOptions = {
    agents: ["main"],
    deltas: 4,
    chunkDelayMs: 0,
    slowMs: 200,
    mode: "ok",
  };
  Object.assign(settings, options);
  const requests: RecordedRequest[] = [];

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const method = req.method ?? "GET";
    const authorized =
      settings.token === undefined || req.headers.authorization === `Bearer ${settings.token}`;
    const record: RecordedRequest = { method, path, authorized };
    requests.push(record);
    const mode = settings.mode;

    if (mode === "hang") return;
    if ((method === "GET" || method === "HEAD") && path === "/health") {
      return json(res, 200, { ok: true, status: "live" });
    }
    if ((method === "GET" || method === "HEAD") && path === "/startupz") {
      return mode === "starting"
        ? json(res, 503, { status: "starting" })
        : json(res, 200, { status: "started" });
    }
    if ((method === "GET" || method === "HEAD") && path === "/readyz") {
      return mode === "starting" ? json(res, 503, { ready: false }) : json(res, 200, { ready: true });
    }
    if (!path.startsWith("/v1/") || mode === "endpoint-disabled") return json(res, 404, NOT_FOUND);
    if (mode === "starting") {
      return json(res, 503, { error: { message: "Gateway is starting", type: "unavailable" } });
    }
    if (!authorized || mode === "unauthorized") {
      return json(res, 401, { error: { message: "Unauthorized", type: "unauthorized" } });
    }

    if (method === "GET" && path === "/v1/models") {
      const ids = ["openclaw/default", ...(settings.agents ?? []).map((agent) => `openclaw/${agent}`)];
      return json(res, 200, {
        object: "list",
        data: ids.map((id) => ({ id, object: "model", created: 0, owned_by: "openclaw" })),
      });
    }
    if (method !== "POST" || path !== "/v1/chat/completions") return json(res, 404, NOT_FOUND);

    const body = await readJson(req);
    if (!body)
      return json(res, 400, { error: { message: "Invalid JSON body", type: "invalid_request_error" } });
    const model = typeof body.model === "string" ? body.model : "";
    const messages = Array.isArray(body.messages)
      ? (body.messages as { role?: unknown; content?: unknown }[])
      : [];
    const prompt = messages.findLast((message) => message?.role === "user")?.content;
    Object.assign(record, {
      model,
      user: typeof body.user === "string" ? body.user : undefined,
      stream: body.stream === true,
      prompt: typeof prompt === "string" ? prompt : undefined,
      includeUsage: (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true,
    });

    const agent = model.startsWith("openclaw/") ? model.slice("openclaw/".length) : undefined;
    if (agent === undefined) {
      return json(res, 400, {
        error: { message: `Invalid model '${model}'.`, type: "invalid_request_error" },
      });
    }
    if (agent !== "default" && !(settings.agents ?? []).includes(agent)) {
      return json(res, 400, {
        error: { message: `Unknown agent '${agent}'.`, type: "invalid_request_error" },
      });
    }
    if (mode === "provider-timeout") {
      return json(res, 408, { error: { message: "upstream provider timeout", type: "timeout" } });
    }
    if (mode === "no-model-auth") {
      const error = { message: NO_AUTH, type: "authentication_error" };
      if (body.stream !== true) return json(res, 401, { error });
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
      res.end(`data: ${JSON.stringify({ error })}\n\n`);
      return;
    }
    if (mode === "model-not-found") {
      return json(res, 404, {
        error: { message: "Unknown model: openai/gpt-none", type: "invalid_request_error" },
      });
    }
    if (mode === "server-error")
      return json(res, 500, { error: { message: "internal error", type: "server_error" } });
    if (mode === "slow") await (settings.slowUntil ?? sleep(settings.slowMs ?? 200));

    const reply = typeof settings.reply === "function" ? settings.reply(record.prompt ?? "") : settings.reply;
    const text = reply ?? `echo: ${record.prompt ?? ""}`;
    const usage =
      settings.usage === false ? undefined : (settings.usage ?? stubUsage)(record.prompt ?? "", text);
    if (!record.stream) {
      return json(res, 200, {
        id: "chatcmpl-stub",
        object: "chat.completion",
        created: 0,
        model,
        choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
        ...(usage ? { usage } : {}),
      });
    }
    await stream(res, model, text, mode ?? "ok", record.includeUsage ? usage : undefined);
  }

  async function stream(
    res: ServerResponse,
    model: string,
    text: string,
    mode: StubMode,
    usage?: object,
  ): Promise<void> {
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" });
    if (mode === "silent") {
      res.flushHeaders();
      return;
    }
    if (mode === "forever" || mode === "trickle") return endless(res, model, mode);
    const events = splitText(text, settings.deltas ?? 4).map((content, index) =>
      sse(chunk(model, index === 0 ? { role: "assistant", content } : { content }, null)),
    );
    if (mode === "malformed") events.splice(1, 0, "data: {not json\n\n");
    if (mode === "drop") events.length = Math.max(1, Math.floor(events.length / 2));
    if (mode === "stall") events.length = 1;
    if (mode === "ok" || mode === "slow" || mode === "malformed") {
      events.push(sse(chunk(model, {}, "stop")));
      // As OpenClaw 2026.9.6 does: a chunk with no choices and the usage, right before [DONE].
      if (usage) events.push(sse({ ...(chunk(model, {}, null) as object), choices: [], usage }));
      events.push("data: [DONE]\n\n");
    }
    if (mode === "no-done") events.push(sse(chunk(model, {}, "stop")));

    const pieces = settings.byteChunkSize
      ? cutBytes(Buffer.from(events.join(""), "utf8"), settings.byteChunkSize)
      : events.map((event) => Buffer.from(event, "utf8"));
    for (const piece of pieces) {
      if (res.destroyed) return;
      res.write(piece);
      await pause(settings.chunkDelayMs ?? 0);
    }
    if (mode === "stall") return;
    if (mode === "drop") {
      res.socket?.destroy();
      return;
    }
    res.end();
  }

  /** Until the client goes away: whole delta events, or their bytes one at a time. */
  async function endless(res: ServerResponse, model: string, mode: "forever" | "trickle"): Promise<void> {
    const delay = Math.max(1, settings.chunkDelayMs ?? 0);
    for (let n = 0; !res.destroyed; n++) {
      const event = Buffer.from(sse(chunk(model, { content: `${n} ` }, null)), "utf8");
      const pieces = mode === "trickle" ? cutBytes(event, 1) : [event];
      for (const piece of pieces) {
        if (res.destroyed) return;
        res.write(piece);
        await sleep(delay);
      }
    }
  }

  let connections = 0;
  server.on("connection", () => connections++);

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    get connections() {
      return connections;
    },
    setMode(mode) {
      settings.mode = mode;
    },
    configure(update) {
      Object.assign(settings, update);
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > MAX_REQUEST_BYTES) return undefined;
    parts.push(part);
  }
  try {
    const value: unknown = JSON.parse(Buffer.concat(parts).toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function chunk(model: string, delta: Record<string, string>, finishReason: string | null): unknown {
  return {
    id: "chatcmpl-stub",
    object: "chat.completion.chunk",
    created: 0,
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  };
}

function sse(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

/** Cut by code points, so every delta is valid text on its own. */
function splitText(text: string, parts: number): string[] {
  const chars = Array.from(text);
  const size = Math.max(1, Math.ceil(chars.length / Math.max(1, parts)));
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(""));
  return out.length ? out : [""];
}

function cutBytes(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

function pause(ms: number): Promise<void> {
  return ms > 0 ? sleep(ms) : new Promise((resolve) => setImmediate(resolve));
}
