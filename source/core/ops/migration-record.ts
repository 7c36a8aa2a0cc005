import { join } from "node:path";
import type { NodeConfig, SshSettings } from "../domain/schema.js";
import type { GatewayKeeper } from "./gateway-lifecycle.js";

/** What a migration keeps (in the federation home) so that `migrate --rollback` can undo it. */
export interface MigrationRecord {
  node: NodeConfig;
  remote: { target: string; stateDir: string; pid?: number; settings: SshSettings };
  localGatewayStopped: boolean;
  /** How the local gateway ran before the move: a rollback starts it the same way. */
  localKeeper?: GatewayKeeper;
  at: string;
}

export function recordPath(home: string, node: string): string {
  return join(home, "migrations", `${node}.json`);
}
