import type { Socket } from "node:net";

/**
 * Connections that have not logged in yet: at most `limit` at once, each with `graceMs` to do it.
 * Idle or half-open connections would otherwise hold file descriptors until nobody can connect.
 * When full, a newcomer from an address holding fewer slots than the busiest address takes that
 * address's oldest slot, so one address flooding the server cannot lock out the others.
 */
export class LoginGate {
  /** In arrival order, so the first of an address is its oldest. */
  private readonly waiting = new Map<Socket, { address: string; timer: NodeJS.Timeout }>();

  constructor(
    private readonly options: { limit: number; graceMs: number; onTimeout?: (address: string) => void },
  ) {}

  /** A new TCP connection: true if it may go on to log in, false if it was closed. */
  admit(socket: Socket): boolean {
    socket.on("error", () => {});
    const address = socket.remoteAddress ?? "?";
    if (this.waiting.size >= this.options.limit && !this.evictFor(address)) {
      socket.destroy();
      return false;
    }
    const timer = setTimeout(() => {
      this.release(socket);
      this.options.onTimeout?.(address);
      socket.destroy();
    }, this.options.graceMs);
    timer.unref();
    this.waiting.set(socket, { address, timer });
    socket.once("close", () => this.release(socket));
    return true;
  }

  /** The connection has logged in: it no longer counts nor times out. */
  loggedIn(socket: Socket): void {
    this.release(socket);
  }

  /** Close every connection still logging in (the server is stopping). */
  closeAll(): void {
    for (const socket of [...this.waiting.keys()]) {
      this.release(socket);
      socket.destroy();
    }
  }

  private release(socket: Socket): void {
    const entry = this.waiting.get(socket);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.waiting.delete(socket);
  }

  private evictFor(address: string): boolean {
    const held = new Map<string, number>();
    for (const { address: a } of this.waiting.values()) held.set(a, (held.get(a) ?? 0) + 1);
    let busiest: string | undefined;
    for (const [a, n] of held) if (busiest === undefined || n > (held.get(busiest) ?? 0)) busiest = a;
    if (busiest === undefined || (held.get(busiest) ?? 0) <= (held.get(address) ?? 0)) return false;
    for (const [socket, entry] of this.waiting) {
      if (entry.address !== busiest) continue;
      this.release(socket);
      socket.destroy();
      return true;
    }
    return false;
  }
}
