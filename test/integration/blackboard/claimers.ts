/**
 * Claim racers (claim-racer.ts) in their own processes, for the contract's "one winner per task" race;
 * both driver fixtures start them the same way, only the store differs (a directory or a nats:// URL).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { collectOutput } from "../../testkit/process.js";
import type { ClaimerProcesses } from "./contract.js";

const RACER = fileURLToPath(new URL("./claim-racer.js", import.meta.url));

export function spawnClaimers(store: string, node: string, processes: number): Promise<ClaimerProcesses> {
  const children = Array.from({ length: processes }, () =>
    spawn(process.execPath, [RACER, store, node], { stdio: ["pipe", "pipe", "pipe"] }),
  );
  const outputs = children.map(collectOutput);
  const ready = children.map(
    (child) =>
      new Promise<void>((resolve, reject) => {
        const lines = createInterface({ input: child.stdout });
        lines.on("line", (line) => {
          if (line === "ready") resolve();
        });
        child.once("exit", (code) => reject(new Error(`claim racer exited (${code}) before it was ready`)));
      }),
  );
  const finished = Promise.all(
    children.map(async (child, i) => {
      const [code] = (await once(child, "exit")) as [number | null];
      const out = outputs[i]!;
      if (code !== 0) throw new Error(`claim racer ${i} exited ${code}: ${out.stderr()}`);
      const last = out.stdout().trim().split("\n").at(-1) ?? "";
      return (JSON.parse(last) as { won: string[] }).won;
    }),
  );
  finished.catch(() => {}); // surfaced to whoever awaits it
  return Promise.all(ready).then(
    () => ({
      go: () => {
        for (const child of children) child.stdin.end("go\n");
      },
      finished,
    }),
    (error: unknown) => {
      for (const child of children) child.kill();
      throw error;
    },
  );
}
