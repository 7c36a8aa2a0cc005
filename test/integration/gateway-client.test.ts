import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  GatewayClient,
  type GatewayClientOptions,
  GatewayError,
  type GatewayErrorKind,
  type GatewayTarget,
} from "../../source/core/transport/gateway-client.js";
import { SseParser } from "../../source/core/transport/sse-parser.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

const TOKEN = "tok_s3cret_0123456789abcdef";
const TOKEN_SOURCE = "token file ~/.clawos/tokens/alpha";

function targetFor(port: number, overrides: Partial<GatewayTarget> = {}): GatewayTarget {
  return {
    nodeId: "alpha",
    host: "127.0.0.1",
    port,
    token: TOKEN,
    tokenSource: TOKEN_SOURCE,
    profile: "alpha",
    agent: "main",
    ...overrides,
  };
}

/** Every error the suite sees, to check afterwards that none leaks the token. */
const seenErrors: GatewayError[] = [];

async function expectGatewayError(promise: Promise<unknown>, kind: GatewayErrorKind): Promise<GatewayError> {
  const error = await promise.then(
    () => assert.fail(`expected a ${kind} GatewayError`),
    (reason: unknown) => reason,
  );
  assert.ok(error instanceof GatewayError, `expected GatewayError, got ${String(error)}`);
  assert.equal(error.kind, kind, error.message);
  assert.ok(!error.message.includes("\n"), "message is one line");
  assert.ok(!error.hint?.includes("\n"), "hint is one line");
  seenErrors.push(error);
  return error;
}

describe("SseParser", () => {
  const stream =
    ": keep-alive\r\n\r\n" +
    'data: {"a":"你好，世界 🦞"}\r\n\r\n' +
    "event: message\ndata: line one\ndata: line two\n\n" +
    "data:no-space\r\r" +
    "data: [DONE]\n\n";
  const expected = ['{"a":"你好，世界 🦞"}', "line one\nline two", "no-space", "[DONE]"];

  it("yields the same events however the bytes are split", () => {
    const bytes = Buffer.from(stream, "utf8");
    for (let cut = 0; cut <= bytes.length; cut++) {
      const parser = new SseParser();
      const events = [
        ...parser.push(bytes.subarray(0, cut)),
        ...parser.push(bytes.subarray(cut)),
        ...parser.end(),
      ];
      assert.deepEqual(events, expected, `split at byte ${cut}`);
    }
    const parser = new SseParser();
    const oneByOne = [...bytes].flatMap((byte) => parser.push(Uint8Array.of(byte)));
    assert.deepEqual([...oneByOne, ...parser.end()], expected);
  });

  it("flushes a last event without its blank line at the end", () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push(Buffer.from("data: [DONE]")), []);
    assert.deepEqual(parser.end(), ["[DONE]"]);
  });

  it("refuses an event longer than its limit", () => {
    const parser = new SseParser(100);
    assert.throws(() => parser.push(Buffer.from(`data: ${"x".repeat(200)}`)), /longer than 100/);
  });
});

describe("GatewayClient against the stub gateway", () => {
  let stub: StubGateway;
  const clients: GatewayClient[] = [];
  const client = (overrides: Partial<GatewayTarget> = {}, options: GatewayClientOptions = {}) => {
    const created = new GatewayClient(targetFor(stub.port, overrides), options);
    clients.push(created);
    return created;
  };
  const reset = (options: Parameters<StubGateway["configure"]>[0] = {}) => {
    stub.configure({
      reply: undefined,
      deltas: 4,
      chunkDelayMs: 0,
      byteChunkSize: undefined,
      mode: "ok",
      ...options,
    });
    stub.requests.length = 0;
  };

  before(async () => {
    stub = await startStubGateway({ token: TOKEN, agents: ["main", "alpha"] });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await stub.close();
  });

  it("probes /health, /startupz and /v1/models", async () => {
    reset();
    const gateway = client();
    const health = await gateway.health();
    assert.equal(health.ok, true);
    assert.equal(typeof health.latencyMs, "number");
    assert.ok(health.latencyMs >= 0);
    assert.equal(await gateway.startupz(), "started");
    assert.deepEqual(await gateway.models(), ["openclaw/default", "openclaw/main", "openclaw/alpha"]);
    const modelsRequest = stub.requests.find((r) => r.path === "/v1/models");
    assert.equal(modelsRequest?.authorized, true);
  });

  it("streams deltas in order and they add up to the reply", async () => {
    reset({ reply: "one two three four five six seven", deltas: 5 });
    const deltas: string[] = [];
    const result = await client().chat({
      text: "count",
      user: "clawos:alpha",
      onDelta: (d) => deltas.push(d),
    });
    assert.ok(deltas.length >= 3, `several deltas, got ${deltas.length}`);
    assert.equal(deltas.join(""), "one two three four five six seven");
    assert.equal(result.text, "one two three four five six seven");
    assert.equal(result.model, "openclaw/main");
  });

  it("sends model openclaw/<agent>, the prompt and a stable user", async () => {
    reset();
    const gateway = client({ agent: "alpha" });
    const first = await gateway.chat({ text: "hello", user: "clawos-node-alpha" });
    await gateway.chat({ text: "again", user: "clawos-node-alpha" });
    assert.equal(first.text, "echo: hello");
    const chats = stub.requests.filter((r) => r.path === "/v1/chat/completions");
    assert.deepEqual(
      chats.map((r) => [r.model, r.user, r.prompt, r.stream]),
      [
        ["openclaw/alpha", "clawos-node-alpha", "hello", true],
        ["openclaw/alpha", "clawos-node-alpha", "again", true],
      ],
    );
  });

  it("keeps CJK and emoji intact when bytes are split mid-character", async () => {
    const reply = "联邦状态：全部在线 ✅ 任务已完成 🦞 — café";
    reset({ reply, deltas: 6, byteChunkSize: 5, chunkDelayMs: 1 });
    const deltas: string[] = [];
    const result = await client().chat({ text: "状态?", onDelta: (d) => deltas.push(d) });
    assert.equal(result.text, reply);
    assert.equal(deltas.join(""), reply);
    assert.ok(!result.text.includes("\uFFFD"));
  });

  it("a wrong token is unauthorized, naming its source, never the token", async () => {
    reset();
    const error = await expectGatewayError(client({ token: "wrong-token-value" }).models(), "unauthorized");
    assert.equal(error.retryable, false);
    assert.equal(error.status, 401);
    assert.match(error.message, /token file ~\/\.clawos\/tokens\/alpha/);
    assert.match(error.hint ?? "", /gateway\.auth\.token in ~\/\.openclaw-alpha\/openclaw\.json/);
    assert.ok(!`${error.message} ${error.hint}`.includes("wrong-token-value"));
    const chatError = await expectGatewayError(
      client({ token: "wrong-token-value" }).chat({ text: "x" }),
      "unauthorized",
    );
    assert.ok(!`${chatError.message} ${chatError.hint}`.includes("wrong-token-value"));
  });

  it("a missing token is unauthorized and says none was sent", async () => {
    reset();
    const error = await expectGatewayError(
      client({ token: undefined, tokenSource: "no token (token: none)" }).models(),
      "unauthorized",
    );
    assert.match(error.message, /none was sent/);
  });

  it("a disabled endpoint gives the exact command to enable it", async () => {
    reset({ mode: "endpoint-disabled" });
    const error = await expectGatewayError(client().chat({ text: "x" }), "endpoint_disabled");
    assert.equal(error.retryable, false);
    assert.equal(
      error.hint,
      "Run: openclaw --profile alpha config set gateway.http.endpoints.chatCompletions.enabled true",
    );
    const byDefault = await expectGatewayError(client({ profile: null }).models(), "endpoint_disabled");
    assert.equal(
      byDefault.hint,
      "Run: openclaw config set gateway.http.endpoints.chatCompletions.enabled true",
    );
  });

  it("an unknown agent names the agent and how to fix it", async () => {
    reset();
    const error = await expectGatewayError(client({ agent: "ghost" }).chat({ text: "x" }), "unknown_agent");
    assert.equal(error.retryable, false);
    assert.equal(error.status, 400);
    assert.match(error.message, /no agent 'ghost'/);
    assert.match(error.hint ?? "", /openclaw --profile alpha agents list/);
    assert.match(error.hint ?? "", /openclaw --profile alpha agents add ghost/);
  });

  it("408 means the node's model provider is down", async () => {
    reset({ mode: "provider-timeout" });
    const error = await expectGatewayError(client().chat({ text: "x" }), "provider_timeout");
    assert.equal(error.retryable, true);
    assert.match(error.message, /model provider/);
    assert.match(error.hint ?? "", /models\.providers/);
  });

  it("a starting gateway is reported by /startupz and as a retryable 503", async () => {
    reset({ mode: "starting" });
    const gateway = client();
    assert.equal(await gateway.startupz(), "starting");
    const error = await expectGatewayError(gateway.chat({ text: "x" }), "starting");
    assert.equal(error.retryable, true);
    assert.equal(error.status, 503);
  });

  it("other statuses are http_error with the status", async () => {
    reset({ mode: "server-error" });
    const error = await expectGatewayError(client().chat({ text: "x" }), "http_error");
    assert.equal(error.status, 500);
    assert.match(error.message, /HTTP 500: internal error/);
  });

  it("a malformed event is bad_response with the text so far", async () => {
    reset({ mode: "malformed", reply: "abcdefgh", deltas: 4 });
    const error = await expectGatewayError(client().chat({ text: "x" }), "bad_response");
    assert.equal(error.partialText, "ab");
    assert.equal(error.retryable, false);
  });

  it("a stream that ends without [DONE] is bad_response keeping the partial text", async () => {
    reset({ mode: "no-done", reply: "abcdefgh", deltas: 4 });
    const error = await expectGatewayError(client().chat({ text: "x" }), "bad_response");
    assert.match(error.message, /without data: \[DONE\]/);
    assert.equal(error.partialText, "abcdefgh");
  });

  it("a connection dropped mid-stream is a retryable bad_response keeping the partial text", async () => {
    reset({ mode: "drop", reply: "abcdefgh", deltas: 4 });
    const deltas: string[] = [];
    const error = await expectGatewayError(
      client().chat({ text: "x", onDelta: (d) => deltas.push(d) }),
      "bad_response",
    );
    assert.equal(error.retryable, true);
    assert.equal(error.partialText, deltas.join(""));
    assert.equal(error.partialText, "abcd");
  });

  it("a reply over the size cap is refused", async () => {
    reset({ reply: "x".repeat(5000), deltas: 10 });
    const error = await expectGatewayError(
      client({}, { maxReplyBytes: 1000 }).chat({ text: "x" }),
      "bad_response",
    );
    assert.match(error.message, /larger than/);
  });

  it("a slow gateway still delivers its reply", async () => {
    reset({ mode: "slow", slowMs: 50, reply: "late but fine" });
    assert.equal((await client().chat({ text: "x" })).text, "late but fine");
  });

  it("a hanging server gives timeout for probes and chats", async () => {
    reset({ mode: "hang" });
    const probe = await expectGatewayError(client({}, { probeTimeoutMs: 150 }).health(), "timeout");
    assert.equal(probe.retryable, true);
    await expectGatewayError(client({}, { timeoutMs: 150 }).chat({ text: "x" }), "timeout");
  });

  it("a stream that stalls after a delta times out keeping the partial text", async () => {
    reset({ mode: "stall", reply: "abcdefgh", deltas: 4 });
    const error = await expectGatewayError(client().chat({ text: "x", timeoutMs: 400 }), "timeout");
    assert.equal(error.partialText, "ab");
  });

  it("the caller's signal aborts a chat mid-stream", async () => {
    reset({ mode: "stall", reply: "abcdefgh", deltas: 4 });
    const controller = new AbortController();
    const error = await expectGatewayError(
      client().chat({ text: "x", signal: controller.signal, onDelta: () => controller.abort() }),
      "aborted",
    );
    assert.equal(error.partialText, "ab");
    assert.equal(error.retryable, false);
  });

  it("an already aborted signal and an abort while waiting both give aborted", async () => {
    reset({ mode: "hang" });
    await expectGatewayError(client().health(AbortSignal.abort()), "aborted");
    const controller = new AbortController();
    const pending = client().models(controller.signal);
    while (!stub.requests.some((r) => r.path === "/v1/models")) await new Promise((r) => setTimeout(r, 5));
    controller.abort();
    await expectGatewayError(pending, "aborted");
  });

  it("an error thrown by onDelta reaches the caller unchanged", async () => {
    reset();
    const mine = new Error("consumer failed");
    await assert.rejects(
      client().chat({
        text: "x",
        onDelta: () => {
          throw mine;
        },
      }),
      (error) => error === mine,
    );
  });

  it("reuses keep-alive connections across consecutive chats", async () => {
    reset();
    const gateway = client();
    const before = stub.connections;
    for (let i = 0; i < 8; i++) assert.equal((await gateway.chat({ text: `n${i}` })).text, `echo: n${i}`);
    await gateway.models();
    // undici may open a second socket while the first is being released; never one per request.
    assert.ok(stub.connections - before <= 3, `${stub.connections - before} connections for 9 requests`);
  });

  it("probes a gateway on this machine over one kept-alive connection", async () => {
    reset();
    const gateway = client();
    const before = stub.connections;
    for (let i = 0; i < 6; i++) {
      assert.equal((await gateway.health()).ok, true);
      assert.equal((await gateway.models()).length, 3);
    }
    assert.ok(stub.connections - before <= 2, `${stub.connections - before} connections for 12 probes`);
  });

  it("a probe on a closed client, or running when it closes, is aborted", async () => {
    reset({ mode: "hang" });
    const gateway = new GatewayClient(targetFor(stub.port));
    const running = expectGatewayError(gateway.health(), "aborted");
    await new Promise((resolve) => setTimeout(resolve, 50));
    await gateway.close();
    assert.match((await running).message, /the client is closed/);
    reset();
    await expectGatewayError(gateway.health(), "aborted");
    await expectGatewayError(gateway.chat({ text: "x" }), "aborted");
  });

  it("the client keeps working after errors (pool reuse)", async () => {
    reset();
    const gateway = client();
    reset({ mode: "server-error" });
    await expectGatewayError(gateway.chat({ text: "x" }), "http_error");
    reset();
    assert.equal((await gateway.chat({ text: "ok" })).text, "echo: ok");
  });
});

describe("GatewayClient with nothing listening", () => {
  it("connection refused is unreachable, with how to start the gateway", async () => {
    const stub = await startStubGateway();
    const port = stub.port;
    await stub.close();
    const named = new GatewayClient(targetFor(port));
    const error = await expectGatewayError(named.health(), "unreachable");
    assert.equal(error.retryable, true);
    assert.match(error.message, new RegExp(`not running on 127\\.0\\.0\\.1:${port}`));
    assert.equal(error.hint, "Start it: openclaw --profile alpha gateway run");
    const byDefault = new GatewayClient(targetFor(port, { profile: null }));
    const defaultError = await expectGatewayError(byDefault.chat({ text: "x" }), "unreachable");
    assert.equal(defaultError.hint, "Start it: openclaw gateway run");
    await Promise.all([named.close(), byDefault.close()]);
  });
});

describe("GatewayClient against a hostile server", () => {
  it("scrubs the token even when the server echoes it back", async () => {
    const server = createServer((req, res) => {
      res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { message: `bad header ${req.headers.authorization}\u001b[31m` } }));
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const gateway = new GatewayClient(targetFor((server.address() as AddressInfo).port));
    const error = await expectGatewayError(gateway.chat({ text: "x" }), "http_error");
    assert.match(error.message, /Bearer <token>/);
    assert.ok(!error.message.includes("\u001b"), "escape sequences are stripped");
    await gateway.close();
    server.close();
  });

  it("no error seen in this file contains the token", () => {
    assert.ok(seenErrors.length > 10);
    for (const error of seenErrors) {
      assert.ok(!`${error.message}\n${error.hint ?? ""}`.includes(TOKEN), error.message);
    }
  });
});

describe("stub-gateway-main", () => {
  it("prints its port, serves, and exits cleanly on SIGTERM", async () => {
    const main = fileURLToPath(new URL("../testkit/stub-gateway-main.js", import.meta.url));
    const child = spawn(
      process.execPath,
      [
        main,
        "--port",
        "0",
        "--token",
        TOKEN,
        "--reply",
        "pong",
        "--chunk-delay-ms",
        "1",
        "--agents",
        "main,beta",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = once(child, "exit");
    const [line] = (await once(createInterface({ input: child.stdout }), "line")) as [string];
    const { port } = JSON.parse(line) as { port: number };
    const gateway = new GatewayClient(targetFor(port, { agent: "beta" }));
    assert.equal((await gateway.chat({ text: "ping" })).text, "pong");
    assert.ok((await gateway.models()).includes("openclaw/beta"));
    await gateway.close();
    child.kill("SIGTERM");
    const [code, signal] = await exited;
    assert.equal(signal, null);
    assert.equal(code, 0);
  });
});

describe("errors streamed inside a 200 reply (as real OpenClaw does)", () => {
  it("an upstream provider failure in the stream is a retryable provider_timeout, partial text kept", async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8" });
      res.write('data: {"choices":[{"delta":{"role":"assistant"}}]}\n\n');
      res.write('data: {"choices":[{"delta":{"content":"par"}}]}\n\n');
      res.write('data: {"error":{"message":"upstream provider timeout","type":"api_error"}}\n\n');
      res.end("data: [DONE]\n\n");
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const client = new GatewayClient(targetFor((server.address() as AddressInfo).port));
    try {
      const error = await expectGatewayError(client.chat({ text: "hi", user: "u" }), "provider_timeout");
      assert.equal(error.retryable, true);
      assert.equal(error.partialText, "par");
    } finally {
      await client.close();
      server.close();
    }
  });
});
