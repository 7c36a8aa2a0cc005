import { join } from "node:path";
import { describeError } from "../domain/errors.js";
import { FederationCore } from "../federation/federation.js";
import type { LoadedConfig } from "../infra/config.js";
import type { AddCheck } from "./doctor.js";
import { gatewayStartHere } from "./openclaw-command.js";

export type Opened = { core: FederationCore } | { error: unknown } | { absent: true };

/** The federation the checks look at (the caller closes it). Not without a federation.json: opening would create a blackboard, and a check should change nothing. */
export async function openFederation(
  home: string,
  env: NodeJS.ProcessEnv,
  loaded: LoadedConfig,
): Promise<Opened> {
  return loaded.exists
    ? await FederationCore.open(home, { env }).then(
        (core) => ({ core }),
        (error: unknown) => ({ error }),
      )
    : { absent: true };
}

/** Nodes, then blackboard records: one open federation for both. */
export async function checkNodesAndRecords(opened: Opened, add: AddCheck): Promise<void> {
  if ("absent" in opened) return;
  if ("error" in opened || opened.core.nodes.length || opened.core.conflicts.length)
    await checkNodes(opened, add);
  // If the board did not open, the checks before said why.
  if ("core" in opened) await checkRecords(opened.core, add);
}

/** Nodes: reachable, token, endpoint, and what their last turn said of their model. */
async function checkNodes(opened: Exclude<Opened, { absent: true }>, add: AddCheck): Promise<void> {
  try {
    if ("error" in opened) throw opened.error;
    const { core } = opened;
    const { views, routable } = await core.nodeViews({ probe: "always" });
    for (const v of views) {
      if (v.status === "online")
        add({ area: "nodes", level: "ok", message: `${v.id}: online (${v.reason})` });
      else if (v.status === "planned") add({ area: "nodes", level: "ok", message: `${v.id}: planned` });
      else {
        const probe = core.lastProbe(v.id);
        add({
          area: "nodes",
          level: v.status === "misconfigured" || v.status === "unreachable" ? "fail" : "warn",
          message: `${v.id}: ${v.status} — ${v.reason}`,
          // The health's own fix first: a node whose last turn failed on its model needs that one.
          fix:
            core.conflicts.find((c) => c.id === v.id)?.fix ??
            routable.find((r) => r.config.id === v.id)?.statusHint ??
            probe?.hint ??
            (v.transport === "localhost"
              ? `start it: ${(await gatewayStartHere(v.profile, core.env)).words}`
              : `run its worker there: clawos node run --node ${v.id}`),
        });
      }
    }
  } catch (error) {
    add({
      area: "nodes",
      level: "fail",
      message: describeError(error).split("\n")[0] ?? "cannot check nodes",
    });
  }
}

/**
 * Blackboard records that readers skip (what `clawos status` lists with "!"), named one by one;
 * the quarantine count is reported by the directory checks.
 */
async function checkRecords(core: FederationCore, add: AddCheck): Promise<void> {
  const none = () => ({ problems: [] as string[] });
  const [listing, statuses] = await Promise.all([
    core.blackboard.list({ finishedLimit: 50 }).catch(none),
    core.blackboard.readNodeStatuses().catch(none),
  ]);
  const problems = [...listing.problems, ...statuses.problems];
  for (const problem of problems.filter((p) => !/^\d+ malformed file\(s\) set aside/.test(p)))
    add({
      area: "blackboard",
      level: "warn",
      message: problem,
      fix: fixForRecordProblem(problem, core.blackboard.location),
    });
}

/** What to do about a record readers skip, by the kind of problem the blackboard reported. */
function fixForRecordProblem(problem: string, dir: string): string {
  if (/cannot be read \(no permission\)/.test(problem)) {
    const file = join(dir, problem.slice(0, problem.indexOf(": ")));
    const arg = /^[\w./~+-]+$/.test(file) ? file : `'${file.replaceAll("'", `'\\''`)}'`;
    return `make it readable to the worker's user (chmod 644 ${arg}, as its owner), or let the hub's worker (clawos node run) move it to quarantine/`;
  }
  if (
    /symbolic link|named pipe|socket|device file|a directory|not a regular file|where a directory should be/.test(
      problem,
    )
  )
    return `remove it from ${dir}: clawos never follows or moves what is not a regular file`;
  return "the hub's worker (clawos node run) moves malformed files to quarantine/ with a .reason";
}
