/**
 * The probes (/health, /startupz, /v1/models) of a gateway on this machine, over `node:http`.
 *
 * `clawos status` only probes: loading undici for two GETs (its pool, HTTP/1 and HTTP/2
 * clients and the wasm HTTP parser it compiles on the first connection) was the largest single
 * piece of its start-up after Node's own (BENCHMARKS.md, issue 18). Node's HTTP client is already
 * in the binary. The chat turns keep undici (GatewayClient loads it on the first turn).
 *
 * The request has the shape undici's `Dispatcher.request` answers with, so GatewayClient reads
 * and maps its failures the same way: a refused or reset connection carries the same `code`
 * (ECONNREFUSED, ECONNRESET), a reply that is not HTTP an `HPE_*` code, and the caller's
 * deadline and signal abort it through `signal`. No connect timeout of its own: on loopback a
 * connection is accepted or refused at once, and the call's deadline covers a listener that
 * never accepts.
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
