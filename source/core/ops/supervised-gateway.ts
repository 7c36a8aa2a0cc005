import { spawn } from "node:child_process";
import { mkdir, open, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { UserError } from "../domain/errors.js";
import type { GatewayClient } from "../transport/gateway-client.js";
import { waitUntilStarted } from "./gateway-ready.js";

/** A step that created something and how to remove it again, run newest first on failure. */
export interface UndoStep {
  title: string;
  run: () => Promise<void>;
}

export function gatewayPidFile(home: string, name: string): string {
  return join(home, "run", `${name}.gateway.pid`);
}
export function gatewayLogFile(home: string, name: string): string {
  return join(home, "logs", `${name}-gateway.log`);
}

/**
 * Start `openclaw --profile PROFILE gateway run` (PROFILE defaults to the node's name; null is
 * the default profile) in the background, logging to a file; remember its pid.
 */
export async function startSupervised(
  home: string,
  name: string,
  openclaw: string,
  env: NodeJS.ProcessEnv,
  undo: UndoStep[],
  profile: string | null = name,
): Promise<number> {
  await mkdir(join(home, "run"), { recursive: true });
  await mkdir(join(home, "logs"), { recursive: true });
  const log = await open(gatewayLogFile(home, name), "a", 0o600);
  const profileArgs = profile && profile !== "default" ? ["--profile", profile] : [];
  const child = spawn(openclaw, [...profileArgs, "gateway", "run"], {
    env: { ...env, OPENCLAW_DISABLE_BONJOUR: env.OPENCLAW_DISABLE_BONJOUR ?? "1" },
    stdio: ["ignore", log.fd, log.fd],
    detached: true,
  });
  await log.close();
  const pid = child.pid;
  if (!pid) throw new UserError("The gateway process could not be started.");
  child.unref();
  await writeFile(gatewayPidFile(home, name), `${pid}\n`);
  undo.push({
    title: "stop the gateway",
    run: async () => {
      await stopProcessGroup(pid);
      await rm(gatewayPidFile(home, name), { force: true });
    },
  });
  return pid;
}

export async function stopProcessGroup(pid: number, graceMs = 10_000): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  try {
    process.kill(-pid, "SIGTERM");
  } catch {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      return;
    }
  }
  for (let waited = 0; waited < graceMs && alive(); waited += 100) await sleep(100);
  if (alive()) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

export async function waitReady(
  client: GatewayClient,
  timeoutMs: number,
  home: string,
  name: string,
): Promise<void> {
  const pid = Number((await readFile(gatewayPidFile(home, name), "utf8").catch(() => "")).trim());
  await waitUntilStarted(client, {
    timeoutMs,
    what: "The gateway",
    hint: `see ${gatewayLogFile(home, name)}; a first start can take a minute on a small machine (--ready-timeout)`,
    checkAlive: async () => {
      if (!pid) return;
      try {
        process.kill(pid, 0);
      } catch {
        const tail = (await readFile(gatewayLogFile(home, name), "utf8").catch(() => ""))
          .trim()
          .split("\n")
          .slice(-3)
          .join(" | ");
        throw new UserError(`The gateway exited before it was ready: ${tail.slice(0, 300)}`, {
          hint: `see ${gatewayLogFile(home, name)}`,
        });
      }
    },
  });
}
