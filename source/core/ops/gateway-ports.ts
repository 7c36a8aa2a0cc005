import { createServer } from "node:net";
import { UserError } from "../domain/errors.js";

/**
 * OpenClaw's own rule (docs/gateway/multiple-gateways.md): an instance uses its base port,
 * base+2 (browser control) and a CDP range up to base+110, so base ports stay 120 apart.
 */
export const PORT_SPACING = 120;
export const FIRST_BASE_PORT = 18789;

/** A gateway this machine knows of: a registered node or an OpenClaw profile. */
export interface KnownGateway {
  id: string;
  port: number;
  /** OpenClaw profile name; null or undefined = the default profile (~/.openclaw). */
  profile?: string | null;
}

/** Base ports 18789, 18909, … that keep PORT_SPACING from every port in `used`. */
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

/** Pure: the nearest known gateway closer than PORT_SPACING to `port`, if any. */
export function tooClose(port: number, known: KnownGateway[]): KnownGateway | undefined {
  const near = known.filter((k) => Math.abs(k.port - port) < PORT_SPACING);
  return near.sort((a, b) => Math.abs(a.port - port) - Math.abs(b.port - port))[0];
}

export interface PortOverlap {
  text: string;
  /** The exact commands that move the second gateway to a base port clear of every other. */
  fix: string;
}

/** Pure: pairs of known gateways closer than PORT_SPACING (such as the seed's 18789/18790), each with its fix. */
export function portOverlaps(known: KnownGateway[]): PortOverlap[] {
  const out: PortOverlap[] = [];
  for (const [i, a] of known.entries()) {
    for (const b of known.slice(i + 1)) {
      const apart = Math.abs(a.port - b.port);
      if (apart >= PORT_SPACING) continue;
      // Move the one that is not the default profile (the seed's 18789 stays where users expect it).
      const [stay, move] = b.profile ? [a, b] : a.profile ? [b, a] : [a, b];
      const others = known.filter((k) => k !== move).map((k) => k.port);
      const to = pickBasePort(others);
      out.push({
        text: `${a.id} (${a.port}) and ${b.id} (${b.port}) are ${apart === 1 ? "1 port" : `${apart} ports`} apart; OpenClaw needs ${PORT_SPACING} (its browser takes base+2 and a CDP range up to base+110)`,
        fix: `move ${move.id} away from ${stay.id}: ${openclawFor(move.profile)} config set gateway.port ${to}, restart that gateway, then clawos init (it follows the new port)`,
      });
    }
  }
  return out;
}

function openclawFor(profile: string | null | undefined): string {
  return profile && profile !== "default" ? `openclaw --profile ${profile}` : "openclaw";
}

export function portIsFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}
