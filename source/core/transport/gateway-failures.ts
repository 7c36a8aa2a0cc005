/**
 * Every way a gateway request fails, as a GatewayError whose message says what is wrong and whose
 * hint says how to fix it. Messages are our own words plus `clean()`ed server text, so they never
 * echo the token.
 */
import { sanitizeLine } from "../infra/sanitize.js";
import { parseJson } from "./body-limits.js";
import type { GatewayTarget } from "./gateway-client.js";
import { GatewayError, type GatewayErrorKind, type GatewayErrorOptions } from "./gateway-error.js";
import { CLIENT_CLOSED, CONNECT_TIMEOUT } from "./loopback-http.js";

/** What a failure message names of the request. */
export interface FailedCall {
  method: "GET" | "POST";
  path: string;
  timeoutMs: number;
  /** The caller's signal: fired, the failure is "aborted". */
  signal: AbortSignal | undefined;
}

export class GatewayFailures {
  constructor(
    private readonly target: GatewayTarget,
    private readonly streamIdleMs: number,
    /** Our own pool to a loopback host: the gateway runs on this machine. */
    private readonly local: boolean,
  ) {}

  classify(
    error: unknown,
    call: FailedCall,
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
              ? `The gateway or its model may be stuck; ${this.checkLog()}. A turn that needs longer wants a larger timing.requestTimeoutMs in federation.json.`
              : `The gateway or its machine may be stuck or overloaded; ${this.checkLog()}, or retry with a longer timeout.`,
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
    if (code === "UND_ERR_DESTROYED" || code === "UND_ERR_CLOSED" || code === CLIENT_CLOSED) {
      return this.fail("aborted", `${request} to node ${nodeId} was cancelled: the client is closed.`, {
        partialText,
        cause: error,
      });
    }
    if (code === "UND_ERR_CONNECT_TIMEOUT" || code === CONNECT_TIMEOUT) {
      return this.fail("timeout", `Node ${nodeId} at ${host}:${port} did not accept a connection in time.`, {
        hint: "Is its machine asleep, offline or behind a firewall? Check the node's host and port.",
        notStarted: true,
        cause: error,
      });
    }
    if (code && TIMEOUT_CODES.has(code)) {
      return this.fail(
        "timeout",
        `Node ${nodeId} at ${host}:${port} stopped answering ${request} (${code}).`,
        {
          hint: `The gateway or its machine may be stuck or overloaded; ${this.checkLog()}, or retry.`,
          partialText,
          cause: error,
        },
      );
    }
    if (state.responded) {
      return this.fail("bad_response", `Node ${nodeId}'s gateway dropped the connection during ${request}.`, {
        hint: `The gateway may have crashed or restarted; ${this.checkLog()}, and retry.`,
        partialText,
        retryable: true,
        cause: error,
      });
    }
    if (code?.startsWith("HPE_")) {
      return this.badResponse(`${host}:${port} does not speak HTTP (${code})`, partialText);
    }
    const start = this.target.startCommand ?? this.openclaw("gateway run");
    if (code === undefined || NOT_RUNNING_CODES.has(code)) {
      return this.fail(
        "unreachable",
        `The gateway of node ${nodeId} is not running on ${host}:${port} (${code ?? describe(error)}).`,
        {
          hint: this.isLocal() ? `Start it: ${start}` : `Start it on the node's machine: ${start}`,
          notStarted: code !== undefined && NEVER_CONNECTED.has(code),
          cause: error,
        },
      );
    }
    return this.fail("unreachable", `Cannot reach node ${nodeId} at ${host}:${port} (${code}).`, {
      hint: `Check that the machine is awake and on the network and its gateway runs (${start}).`,
      notStarted: NEVER_CONNECTED.has(code),
      cause: error,
    });
  }

  idleError(partialText: string): GatewayError {
    const { nodeId, host, port } = this.target;
    return this.fail(
      "timeout",
      `Node ${nodeId} at ${host}:${port} sent nothing for ${formatMs(this.streamIdleMs)} in the middle of its reply.`,
      {
        hint: `The gateway or its model may be stuck; ${this.checkLog()}. If its agent runs long silent tools, raise timing.streamIdleMs in federation.json.`,
        partialText,
      },
    );
  }

  statusError(call: FailedCall, status: number, body: string): GatewayError {
    const { nodeId, host, port, agent, tokenSource } = this.target;
    const request = `${call.method} ${call.path}`;
    const serverMessage = this.clean(errorMessage(body) || `HTTP ${status}`);
    const config = this.configPath();
    const model = this.modelFailure(errorOf(body), serverMessage, status);
    if (model) return model;
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
    if (status === 503) {
      return this.fail(
        "starting",
        `The gateway of node ${nodeId} at ${host}:${port} is still starting (503).`,
        {
          hint: "Wait a few seconds and retry; GET /startupz answers 200 once it is ready.",
          status,
          notStarted: true,
        },
      );
    }
    return this.fail(
      "http_error",
      `Node ${nodeId}'s gateway answered ${request} with HTTP ${status}: ${serverMessage}.`,
      {
        hint: `${capitalize(this.checkLog())}.`,
        status,
        retryable: status === 429 || status >= 500,
      },
    );
  }

  badResponse(detail: string, partialText?: string): GatewayError {
    const { nodeId, host, port } = this.target;
    return this.fail(
      "bad_response",
      `Node ${nodeId} at ${host}:${port} sent a malformed response: ${detail}.`,
      {
        hint: `Check that ${host}:${port} is an OpenClaw gateway (openclaw ≥ 2026.9); ${this.checkLog()}.`,
        partialText,
      },
    );
  }

  /** Messages are built from our own words plus `clean()`ed server text, so they never hold the token. */
  fail(kind: GatewayErrorKind, message: string, options: Omit<GatewayErrorOptions, "nodeId">): GatewayError {
    return new GatewayError(kind, message, { ...options, nodeId: this.target.nodeId });
  }

  /** Untrusted server text made safe for one line of a message. */
  clean(text: string): string {
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
    return this.local;
  }

  /** An `error` event inside a 200 stream. Real OpenClaw streams provider failures as 200 + `data: {"error":…}` (verified on 2026.9.6). */
  streamedError(error: { message: string; type?: string | undefined }, partialText: string): GatewayError {
    const { nodeId } = this.target;
    const message = this.clean(error.message);
    const model = this.modelFailure({ type: error.type ?? "" }, message, undefined, partialText);
    if (model) return model;
    return this.fail(
      "http_error",
      `Node ${nodeId}'s gateway reported an error mid-reply: ${sentence(message)}`,
      {
        hint: `${capitalize(this.checkLog())}; the partial reply is kept on the task.`,
        partialText,
      },
    );
  }

  /**
   * The gateway runs but its model cannot answer: no usable credentials, an unknown model, or the
   * provider down. OpenClaw maps these to OpenAI error types (openai-compat-errors in 2026.9.6),
   * which tell them apart from the gateway's own 401 (type "unauthorized") and 404.
   */
  private modelFailure(
    error: { type: string },
    message: string,
    status: number | undefined,
    partialText?: string,
  ): GatewayError | undefined {
    const { nodeId } = this.target;
    const from = status ? ` (${status})` : "";
    const extra = { ...(status ? { status } : {}), ...(partialText ? { partialText } : {}) };
    const retry = `then check it: clawos nodes probe --turn ${nodeId}`;
    if (
      /^(authentication_error|permission_error|insufficient_quota)$/.test(error.type) ||
      /authentication source|api key|credential|auth profile/i.test(message)
    ) {
      const provider = /configured for ([\w.-]+?)\.?$/.exec(message)?.[1];
      return this.fail(
        "model_auth",
        `Node ${nodeId}'s model has no usable credentials${from}: ${sentence(message)}`,
        {
          hint: `Give it a key: ${this.openclaw(`models auth paste-api-key --provider ${provider ?? "PROVIDER"}`)} (${this.openclaw("models status")} shows what is missing), ${retry}.`,
          ...extra,
        },
      );
    }
    if (
      error.type === "invalid_request_error" &&
      (status === 404 || /model/i.test(message)) &&
      !/unknown agent/i.test(message)
    ) {
      return this.fail(
        "model_not_found",
        `Node ${nodeId}'s model is not available${from}: ${sentence(message)}`,
        {
          hint: `Pick one its provider has: ${this.openclaw("models list")}, then ${this.openclaw("models set PROVIDER/MODEL")}; ${retry}.`,
          ...extra,
        },
      );
    }
    if (
      status === 408 ||
      /upstream provider|rate_limit_error/.test(`${message} ${error.type}`) ||
      /provider|timeout|upstream/i.test(status ? "" : message)
    ) {
      return this.fail(
        "provider_timeout",
        `Node ${nodeId}'s model provider did not answer${from}: ${sentence(message)}`,
        {
          hint: `The gateway runs but its model provider is down or unreachable; check models.providers and the agent's model in ${this.configPath()}, and ${this.checkLog()}.`,
          ...extra,
        },
      );
    }
    return undefined;
  }

  /** "check its log: FILE", naming the file when the gateway is on this machine. */
  private checkLog(): string {
    const command = this.openclaw("logs --follow");
    return this.target.logFile
      ? `check its log: ${this.target.logFile} (or ${command})`
      : `check its log on its machine (${command} there)`;
  }
}

/** A server's message as the end of our sentence: one full stop, never two ("openai.."). */
function sentence(text: string): string {
  const trimmed = text.trim();
  return /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const NOT_RUNNING_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "UND_ERR_SOCKET"]);
/** No connection was made, so the gateway never saw the request (a reset or a closed socket may come after it did). */
const NEVER_CONNECTED = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
const TIMEOUT_CODES = new Set([
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** The OpenAI-style error type of a body, when it has one. */
function errorOf(body: string): { type: string } {
  const error = parseJson(body)?.error;
  const type = typeof error === "object" && error !== null ? (error as { type?: unknown }).type : undefined;
  return { type: typeof type === "string" ? type : "" };
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
