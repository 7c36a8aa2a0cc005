/**
 * Records as a writer of the shared blackboard could plant them: valid to the schema, with
 * terminal escape sequences in every free-text field (timestamps included, which the schema
 * takes as plain strings).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const TASK_ID = "req_20260301_120000_deadbeef";
export const DONE_ID = "req_20260301_110000_0badf00d";
/** The payload of a clipboard write (OSC 52): it must not reach the output at all. */
export const CLIPBOARD = "Y3VybCBldmlsLnNoIHwgc2g=";

/** Clipboard write, window title, screen clear, full reset, a C1 CSI, a bell and a right-to-left override. */
export const HOSTILE = `\u001b]52;c;${CLIPBOARD}\u0007\u001b]0;pwned\u0007\u001b[2J\u001bc\u009b2J\u0007\u202epwned\u202c`;

/** What in `output` could drive a terminal: ESC, C0 (but newline), DEL, C1, bidi overrides and isolates. */
export function hostileControls(output: string): string[] {
  return [...output.matchAll(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g)].map(
    (m) => JSON.stringify(m[0]),
  );
}

function request(id: string, node: string) {
  return {
    schema: "clawos.task/1",
    id,
    target: node,
    priority: "P2",
    text: `look at this ${HOSTILE}`,
    tags: [HOSTILE],
    createdAt: `2026-03-01T12:00:00.000Z${HOSTILE}`,
    createdBy: HOSTILE,
    attempt: 1,
    maxAttempts: 3,
    route: { node, transport: "blackboard", reason: `routed ${HOSTILE}`, decidedAt: HOSTILE },
    history: [
      { at: `2026-03-01T12:00:01.000Z${HOSTILE}`, event: `ev${HOSTILE}`.slice(0, 40), detail: HOSTILE },
    ],
  };
}

async function put(path: string, value: unknown): Promise<void> {
  await mkdir(join(path, ".."), { recursive: true });
  await writeFile(path, JSON.stringify(value));
}

/** One pending task in `node`'s inbox and one finished one (with a failed result), every text field hostile. */
export async function plantHostileTask(blackboard: string, node: string): Promise<void> {
  await put(join(blackboard, "requests", node, `${TASK_ID}.json`), request(TASK_ID, node));
  await put(join(blackboard, "done", node, `${DONE_ID}.json`), request(DONE_ID, node));
  await put(join(blackboard, "results", `${DONE_ID}.a1.failed.json`), {
    schema: "clawos.result/1",
    id: DONE_ID,
    attempt: 1,
    node,
    status: "failed",
    text: HOSTILE,
    error: { kind: HOSTILE.slice(0, 60), message: HOSTILE, hint: HOSTILE },
    startedAt: `2026-03-01T11:00:00.000Z${HOSTILE}`,
    finishedAt: `2026-03-01T11:00:05.000Z${HOSTILE}`,
    durationMs: 5000,
  });
}

/** A heartbeat for `node` whose machine, version, times and gateway error are hostile. */
export async function plantHostileHeartbeat(blackboard: string, node: string): Promise<void> {
  await put(join(blackboard, "node-status", `${node}.json`), {
    schema: "clawos.node-status/1",
    node,
    machine: HOSTILE,
    pid: 1,
    version: HOSTILE,
    startedAt: HOSTILE,
    heartbeatAt: `${new Date().toISOString()}${HOSTILE}`,
    state: "running",
    inFlight: [],
    completed: 0,
    failed: 0,
    gateway: { reachable: false, checkedAt: HOSTILE, error: HOSTILE },
  });
}
