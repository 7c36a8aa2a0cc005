import { setTimeout as sleep } from "node:timers/promises";
import { UserError } from "../domain/errors.js";
import type { GatewayClient } from "../transport/gateway-client.js";

/**
 * Poll /startupz until the gateway says "started". `checkAlive` may throw to stop early
 * (e.g. the process exited); past the deadline the error names the gateway and the fix.
 */
export async function waitUntilStarted(
  client: GatewayClient,
  options: { timeoutMs: number; what: string; hint?: string; checkAlive?: () => Promise<void> },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    try {
      if ((await client.startupz(AbortSignal.timeout(2_000))) === "started") return;
    } catch {
      // not listening yet
    }
    await options.checkAlive?.();
    if (Date.now() > deadline) {
      throw new UserError(`${options.what} was not ready after ${Math.round(options.timeoutMs / 1000)} s.`, {
        ...(options.hint ? { hint: options.hint } : {}),
      });
    }
    await sleep(500);
  }
}
