import { createServer } from "node:net";
import { UserError } from "../domain/errors.js";

/** OpenClaw uses base+2 and base+11…base+110 besides the base port: keep instances this far apart. */
export const PORT_SPACING = 20;
export const FIRST_BASE_PORT = 18789;

/** Base ports 18789, 18809, … that keep PORT_SPACING from every port in `used`. */
export function* candidateBasePorts(used: number[]): Generator<number> {
  for (let port = FIRST_BASE_PORT; port < 65_000; port += PORT_SPACING) {
    if (used.every((u) => Math.abs(u - port) >= PORT_SPACING)) yield port;
  }
}

export const NO_PORT = "No free base port found between 18789 and 65000.";

/** Pure: the first base port ≥ PORT_SPACING away from every known gateway. */
export function pickBasePort(used: number[], isFree: (port: number) => boolean = () => true): number {
  for (const port of candidateBasePorts(used)) if (isFree(port)) return port;
  throw new UserError(NO_PORT);
}

/** Pure: pairs of known gateways already closer than PORT_SPACING (such as the seed's 18789/18790). */
export function portOverlaps(known: { id: string; port: number }[]): string[] {
  const out: string[] = [];
  for (const [i, a] of known.entries()) {
    for (const b of known.slice(i + 1)) {
      if (Math.abs(a.port - b.port) < PORT_SPACING) {
        out.push(
          `${a.id} (${a.port}) and ${b.id} (${b.port}) are only ${Math.abs(a.port - b.port)} ports apart; OpenClaw's browser ports (base+2, base+11…) will clash`,
        );
      }
    }
  }
  return out;
}

export function portIsFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
