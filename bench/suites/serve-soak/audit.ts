/** The serve soak's evidence once everything has stopped: the blackboard, the decoy, the plants, the exits. */
import { type Audit, auditBlackboard, type ListedTask } from "../soak/audit.js";
import { compareFingerprints, fateOf, fingerprint, leakedReasons, PLANT_PREFIX } from "./plants.js";
import type { Proc } from "./procs.js";
import type { RunOutcome } from "./run.js";
import type { SoakDirs } from "./setup.js";

export interface Evidence {
  audit: Audit;
  /** Entries of the decoy that differ from before the run. */
  decoyChanges: string[];
  /** Per planted kind, how many ended each way. */
  fates: Record<string, Record<string, number>>;
  /** Files in quarantine/ that carry the decoy's contents. */
  leaks: string[];
  /** Exits of every process but the server. */
  crashes: ({ name: string } & Proc["exits"][number])[];
}

export async function gatherEvidence(
  dirs: SoakDirs,
  run: RunOutcome,
  listed: ListedTask[] | undefined,
  decoyBefore: Map<string, string>,
  procs: Proc[],
  server: Proc,
): Promise<Evidence> {
  const audit = await auditBlackboard(dirs.blackboard, run.dispatched, listed, {
    junkPrefix: PLANT_PREFIX,
    expectedReply: (text) => `echo: ${text}`,
  });
  const decoyChanges = compareFingerprints(decoyBefore, await fingerprint(dirs.decoy));
  const fates: Record<string, Record<string, number>> = {};
  for (const p of run.plants) {
    const fate = await fateOf(dirs.blackboard, p);
    fates[p.kind] ??= {};
    fates[p.kind]![fate] = (fates[p.kind]![fate] ?? 0) + 1;
  }
  const leaks = await leakedReasons(dirs.blackboard, [
    "decoy key material",
    "the user's own notes",
    "an old file",
  ]);
  const crashes = procs
    .filter((p) => p !== server)
    .flatMap((p) => p.exits.map((e) => ({ name: p.name, ...e })));
  return { audit, decoyChanges, fates, leaks, crashes };
}
