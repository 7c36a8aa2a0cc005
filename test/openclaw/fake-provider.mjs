// A tiny OpenAI-compatible model provider for the real-OpenClaw test.
//
// OpenClaw's `openai-completions` provider api calls `POST <baseUrl>/chat/completions`
// (always with `stream: true`). This server answers deterministically:
//
//   "Fake provider reply: the magic word is <word>."
//
// where <word> is the first `clawtest-xxxx` token found in the last user message, or
// else that message's last word. A message with "clawtest-count" is answered with how many
// earlier messages of the conversation the gateway sent ("I received N earlier messages."),
// so a test can see a session continue. It also serves `GET /v1/models` and records every
// request (method, path, body) so the test can look at what the gateway sent.
//
// Usage: import { startFakeProvider } from "./fake-provider.mjs";
//        const p = await startFakeProvider({ port: 0 }); ... await p.close();
// Standalone: node fake-provider.mjs [port]   (prints "listening <url>")

import http from "node:http";

export const FAKE_MODEL_ID = "fake-echo-1";

/** The text the fake model answers for a given user message. */
export function fakeReplyFor(userText) {
  const text = String(userText ?? "");
  const tagged = text.match(/\bclawtest-[a-z0-9]+\b/i);
  let word = tagged?.[0];
  if (!word) {
    const words = text.trim().split(/\s+/).filter(Boolean);
    word = (words.at(-1) ?? "nothing").replace(/[^\p{L}\p{N}_-]/gu, "") || "nothing";
  }
  return `Fake provider reply: the magic word is ${word}.`;
}

function contentToText(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part === "string" ? part : (part?.text ?? ""))).join("");
  }
  return "";
}

const INTERNAL_CONTEXT = "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>";

/**
 * The text the person typed in the latest turn. OpenClaw 2026.9.6 sends the turn as
 * "[Mon 2026-11-23 21:26 UTC] <text>\n\nRuntime: agent=main | …" and may append a
 * further user message that holds only "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>…": skip that
 * one, drop the timestamp prefix and the Runtime trailer.
 */
export function lastUserText(messages) {
  if (!Array.isArray(messages)) return "";
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i]?.role !== "user") continue;
    const text = contentToText(messages[i].content);
    if (text.trimStart().startsWith(INTERNAL_CONTEXT)) continue;
    return text
      .replace(/^\[[^\]]*\d{2}:\d{2}[^\]]*\]\s*/, "")
      .replace(/\n\nRuntime: [\s\S]*$/, "")
      .trim();
  }
  return "";
}

/**
 * How many messages of the conversation came before the latest turn: the user and assistant
 * messages the gateway sent, less the latest user message and OpenClaw's internal-context
 * message. A session that continues (also across a migration) makes this grow by 2 a turn.
 */
export function priorMessageCount(messages) {
  if (!Array.isArray(messages)) return 0;
  const spoken = messages.filter(
    (m) =>
      (m?.role === "user" || m?.role === "assistant") &&
      !contentToText(m.content).trimStart().startsWith(INTERNAL_CONTEXT),
  );
  return Math.max(0, spoken.length - 1);
}

/** The reply to a message asking for the count ("clawtest-count"): the count, in words a test can match. */
export function countReplyFor(count) {
  return `Fake provider reply: I received ${count} earlier messages.`;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Start the fake provider on 127.0.0.1.
 * @param {{port?: number, delayMs?: number}} [opts]
 */
export async function startFakeProvider(opts = {}) {
  const requests = [];
  let seq = 0;
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const raw = req.method === "POST" ? await readBody(req).catch(() => "") : "";
    let body = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = null;
    }
    requests.push({ method: req.method, path: url.pathname, headers: req.headers, body, at: Date.now() });

    if (req.method === "GET" && url.pathname === "/__requests") {
      sendJson(res, 200, requests.slice(0, -1));
      return;
    }
    if (req.method === "GET" && /\/models\/?$/.test(url.pathname)) {
      sendJson(res, 200, {
        object: "list",
        data: [{ id: FAKE_MODEL_ID, object: "model", created: 0, owned_by: "clawos-test" }],
      });
      return;
    }
    if (req.method === "POST" && /\/chat\/completions\/?$/.test(url.pathname)) {
      if (!body || !Array.isArray(body.messages)) {
        sendJson(res, 400, { error: { message: "messages required", type: "invalid_request_error" } });
        return;
      }
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      const said = lastUserText(body.messages);
      const reply = /\bclawtest-count\b/.test(said)
        ? countReplyFor(priorMessageCount(body.messages))
        : fakeReplyFor(said);
      const id = `chatcmpl-fake-${++seq}`;
      const created = Math.floor(Date.now() / 1000);
      const model = body.model ?? FAKE_MODEL_ID;
      const usage = { prompt_tokens: 10, completion_tokens: 10, total_tokens: 20 };
      if (body.stream) {
        res.writeHead(200, {
          "content-type": "text/event-stream",
          "cache-control": "no-cache",
          connection: "keep-alive",
        });
        const chunk = (delta, finish = null, extra = {}) =>
          `data: ${JSON.stringify({
            id,
            object: "chat.completion.chunk",
            created,
            model,
            choices: [{ index: 0, delta, finish_reason: finish }],
            ...extra,
          })}\n\n`;
        res.write(chunk({ role: "assistant", content: "" }));
        // Split the reply into a few pieces so the gateway sees a real stream.
        const pieces = reply.match(/.{1,12}/gs) ?? [reply];
        for (const piece of pieces) res.write(chunk({ content: piece }));
        res.write(chunk({}, "stop"));
        if (body.stream_options?.include_usage) {
          res.write(
            `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [], usage })}\n\n`,
          );
        }
        res.write("data: [DONE]\n\n");
        res.end();
        return;
      }
      sendJson(res, 200, {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [{ index: 0, message: { role: "assistant", content: reply }, finish_reason: "stop" }],
        usage,
      });
      return;
    }
    sendJson(res, 404, { error: { message: `not found: ${req.method} ${url.pathname}`, type: "not_found" } });
  });
  server.keepAliveTimeout = 1000;
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, "127.0.0.1", resolve);
  });
  const { port } = server.address();
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const p = await startFakeProvider({ port: Number(process.argv[2] ?? 0) });
  console.log(`listening ${p.url}`);
  const stop = () => p.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
