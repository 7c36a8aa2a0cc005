import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { isValidNodeId } from "../domain/ids.js";
import { lazySchema } from "../domain/lazy-schema.js";
import { isTurnFact, type TurnRecord } from "../domain/turn-health.js";
import { writeFileAtomic } from "./atomic-file.js";

/**
 * The last turn of each node, as this machine saw it: `<home>/run/turns/<node>.json`. Any process
 * here that runs a turn (a dispatcher on the localhost or SSH route, a worker, incubate, `nodes
 * probe --turn`) writes it; the node's worker carries it in its heartbeat to the other machines.
 */
const TurnFile = lazySchema(() =>
  z.object({
    node: z.string(),
    at: z.string(),
    ok: z.boolean(),
    kind: z.string().max(60).optional(),
    error: z.string().max(500).optional(),
    hint: z.string().max(500).optional(),
  }),
);

function turnsDir(home: string): string {
  return join(home, "run", "turns");
}

export async function readTurnRecords(home: string): Promise<Map<string, TurnRecord>> {
  // Synchronous inside: read before every dispatch's routing, a file or two of a few hundred
  // bytes, where each thread-pool trip (list, open, stat, read, close) costs more than the read.
  const out = new Map<string, TurnRecord>();
  // Usually there are none (healthy nodes record nothing): a look first, since a listing that
  // fails builds an error with its stack, which costs more than the look.
  if (!existsSync(turnsDir(home))) return out;
  let names: string[];
  try {
    names = readdirSync(turnsDir(home));
  } catch {
    return out; // none yet
  }
  for (const name of names) {
    const node = name.endsWith(".json") ? name.slice(0, -5) : "";
    if (!isValidNodeId(node)) continue;
    try {
      const parsed = TurnFile.safeParse(JSON.parse(readFileSync(join(turnsDir(home), name), "utf8")));
      if (parsed.success && parsed.data.node === node) out.set(node, stripUndefined(parsed.data));
    } catch {
      // Half-written or removed meanwhile: the next turn writes it again.
    }
  }
  return out;
}

/**
 * Remember a turn's outcome. Only facts about the model are kept, and a success only when it
 * clears one, so the common case (a turn that answers on a healthy node) writes nothing.
 */
export async function recordTurn(
  home: string,
  known: TurnRecord | undefined,
  outcome:
    | { node: string; ok: true }
    | { node: string; ok: false; kind: string; error: string; hint?: string },
): Promise<TurnRecord | undefined> {
  if (outcome.ok && (!known || known.ok)) return undefined;
  if (!outcome.ok && !isTurnFact(outcome.kind)) return undefined;
  const record: TurnRecord = outcome.ok
    ? { node: outcome.node, at: new Date().toISOString(), ok: true }
    : {
        node: outcome.node,
        at: new Date().toISOString(),
        ok: false,
        kind: outcome.kind,
        error: outcome.error.slice(0, 500),
        ...(outcome.hint ? { hint: outcome.hint.slice(0, 500) } : {}),
      };
  await writeFileAtomic(join(turnsDir(home), `${outcome.node}.json`), `${JSON.stringify(record)}\n`, {
    mode: 0o600,
  }).catch(() => {}); // a fact lost to a full disk costs one more failed turn, never the task
  return record;
}

function stripUndefined(r: z.infer<typeof TurnFile>): TurnRecord {
  return {
    node: r.node,
    at: r.at,
    ok: r.ok,
    ...(r.kind ? { kind: r.kind } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.hint ? { hint: r.hint } : {}),
  };
}
