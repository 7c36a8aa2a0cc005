/**
 * HTTP to a gateway on this machine (probes and chat turns), over `node:http`.
 *
 * A one-shot command talks to local gateways only through this: loading undici (its pool,
 * HTTP/1 and HTTP/2 clients, and the wasm HTTP parser it compiles on the first connection) was
 * the largest single piece of `clawos status`'s and `dispatch`'s start-up after Node's own
 * (BENCHMARKS.md, issue 18); Node's HTTP client is already in the binary. Gateways on other
 * hosts and SSH tunnels keep undici's pool (GatewayClient loads it on first use).
 *
 * The reply has the shape of undici's `Dispatcher.request`, so GatewayClient reads it and maps
 * its failures the same way: a refused or reset connection carries the same `code`
 * (ECONNREFUSED, ECONNRESET), a reply that is not HTTP an `HPE_*` code, the caller's deadline
 * and signal abort it through `signal`, and a connection not accepted in time fails with
 * CONNECT_TIMEOUT, as undici's connect timeout does.
 */
import type { ClientRequest, IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";

// Not `import … from "node:http"`: an ES import of node:http reads every export, and its lazy
// `WebSocket`/`fetch` ones load Node's own copy of undici (~70 ms of CPU) — what this module is for
// avoiding. getBuiltinModule gives the same module without touching them.
const { Agent, request } = process.getBuiltinModule("node:http");

export interface HttpReply {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Readable;
}

export interface HttpCall {
  path: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
  signal: AbortSignal;
}

/** The error of a request made or still running after close(): the caller maps it to `aborted`. */
export const CLIENT_CLOSED = "CLAWOS_CLIENT_CLOSED";
export function clientClosed(): Error {
  return Object.assign(new Error("the client is closed"), { code: CLIENT_CLOSED });
}

/** The error of a connection not accepted within the connect timeout (undici's own is UND_ERR_CONNECT_TIMEOUT). */
export const CONNECT_TIMEOUT = "CLAWOS_CONNECT_TIMEOUT";

/** Hosts the probes may reach over this client: this machine only. */
export const LOOPBACK_HOSTS: readonly string[] = ["127.0.0.1", "localhost", "::1"];

export class LoopbackHttp {
  // Keep-alive, as undici's pool: the control center probes the same gateway every few seconds.
  // An idle kept socket is unref'd by the agent, so it does not hold a one-shot command open.
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 8 });
  private readonly running = new Set<ClientRequest>();
  private closed = false;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly connectTimeoutMs: number,
  ) {
    if (!LOOPBACK_HOSTS.includes(host)) throw new Error(`LoopbackHttp: ${host} is not a loopback host`);
  }

  request(call: HttpCall): Promise<HttpReply> {
    if (this.closed) return Promise.reject(clientClosed());
    return new Promise((resolve, reject) => {
      const req = request({
        host: this.host,
        port: this.port,
        path: call.path,
        method: call.method,
        headers: call.headers,
        agent: this.agent,
        signal: call.signal,
      });
      req.once("response", (res) =>
        resolve({ statusCode: res.statusCode ?? 0, headers: res.headers, body: res }),
      );
      req.once("error", reject);
      req.once("socket", (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => {
          const error = new Error(`connect timeout after ${this.connectTimeoutMs} ms`);
          req.destroy(Object.assign(error, { code: CONNECT_TIMEOUT }));
        }, this.connectTimeoutMs);
        socket.once("connect", () => clearTimeout(timer));
        socket.once("close", () => clearTimeout(timer));
      });
      this.running.add(req);
      req.once("close", () => this.running.delete(req));
      req.end(call.body ?? undefined);
    });
  }

  /** Closes the kept connections; a request still running, or made later, fails with clientClosed(). */
  close(): void {
    this.closed = true;
    for (const req of this.running) req.destroy(clientClosed());
    this.agent.destroy();
  }
}
