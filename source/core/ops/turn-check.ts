import { describeError, UserError } from "../domain/errors.js";
import type { FederationCore } from "../federation/federation.js";
import type { ChatRunner } from "../federation/task-runner.js";
import { routeOf } from "../infra/config.js";
import { gatewayLogOf } from "../infra/openclaw-logs.js";
import { readTurnRecords, recordTurn } from "../infra/turn-records.js";

/** What a node is asked to prove its model answers: short, so the check costs a few tokens. */
export const TURN_PROMPT = "clawos checks that this node's model answers: reply with one short sentence.";
/** One OpenClaw session for every check, so checks do not pile up sessions. */
const TURN_USER = "clawos:turn-check";

export type TurnCheck =
  | { ok: true; ms: number; reply: string }
  | { ok: false; ms: number; kind: string; error: string; hint?: string };

/**
 * One real turn through /v1/chat/completions, timed, its outcome remembered for the node's health
 * (turn-records.ts): the check behind incubate's "ready" and `clawos nodes probe --turn`.
 */
export async function checkTurn(
  home: string,
  node: string,
  runner: ChatRunner,
  timeoutMs = 120_000,
): Promise<TurnCheck> {
  const known = (await readTurnRecords(home)).get(node);
  const started = Date.now();
  let check: TurnCheck;
  try {
    const answer = await runner.chat({
      text: TURN_PROMPT,
      user: TURN_USER,
      signal: AbortSignal.timeout(timeoutMs),
    });
    check = { ok: true, ms: Date.now() - started, reply: answer.text };
    await recordTurn(home, known, { node, ok: true });
  } catch (error) {
    const kind = "kind" in Object(error) ? String((error as { kind: unknown }).kind) : "internal";
    const hint = error instanceof UserError ? error.hint : undefined;
    check = {
      ok: false,
      ms: Date.now() - started,
      kind,
      error: error instanceof Error ? error.message : describeError(error),
      ...(hint ? { hint } : {}),
    };
    await recordTurn(home, known, { node, ok: false, kind, error: check.error, ...(hint ? { hint } : {}) });
  }
  return check;
}

/**
 * `clawos nodes probe --turn NODE`: the same turn as incubate's, on a registered node whose gateway
 * is on this machine (a node elsewhere is checked on its own machine, where its worker runs).
 */
export async function probeNodeTurn(
  core: FederationCore,
  id: string,
): Promise<TurnCheck & { node: string; logFile: string }> {
  const node = core.node(id);
  if (node.port === null || routeOf(node, core.machine) !== "localhost") {
    throw new UserError(`Node ${id} runs on ${node.machine}, not on this machine (${core.machine}).`, {
      hint: `run it there: clawos nodes probe --turn ${id}`,
      code: "usage",
    });
  }
  const check = await checkTurn(core.loaded.home, id, await core.gateway(id));
  return { ...check, node: id, logFile: await gatewayLogOf(node.profile, core.env) };
}
