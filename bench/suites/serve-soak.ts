/**
 * Soak of `clawos serve` under attack (issue 12), with a planted-files storm on the blackboard
 * while real workers run real tasks:
 *
 *   node dist/bench/suites/serve-soak.js [--minutes 10] [--normal 5] [--idle 20] [--huge 10]
 *     [--garbage 15] [--max-sessions 60] [--settle 3m] [--user nobody|none] [--out r.json] [--keep]
 *
 * All on 127.0.0.1: one stub gateway per node (w1, w2), a worker per node
 * (`clawos node run --node wN --no-coordinator`), the hub coordinator, one dispatcher
 * (`clawos dispatch … --json` in a loop), and `clawos serve` facing 50 clients by default:
 * normal users (the real `ssh` in a pty, pressing ? now and then), idle pre-auth sockets,
 * huge pty/window sizes, garbage before and after login (bench/suites/serve-soak/clients.ts).
 * Meanwhile a storm plants symlinks to a decoy directory, FIFOs, mode-000, oversized,
 * hostile and future-dated files in the blackboard (bench/suites/serve-soak/plants.ts).
 *
 * The clawos processes run as --user (default nobody when run as root), so that a mode-000
 * file is as unreadable to them as it is to a real user. A crashed server is restarted on
 * the same port (and counted) so the rest of the run still measures something.
 *
 * PASS when: the server never exited, every normal user kept its session, got frames and
 * had every key answered, no planted escape sequence reached a user's terminal, 0 tasks lost
 * or duplicated (bench/suites/soak/audit.ts), no worker crashed, and the decoy is byte-identical.
 * Exit 1 otherwise.
 */
import { chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gatherEvidence } from "./serve-soak/audit.js";
import { opts, say, userIds } from "./serve-soak/plan.js";
import { killAll, makeProcs, type Procs } from "./serve-soak/procs.js";
import { buildReport, printSummary } from "./serve-soak/report.js";
import { runLoad } from "./serve-soak/run.js";
import { settleTasks } from "./serve-soak/settle.js";
import { type SoakDirs, startFederation, startServe } from "./serve-soak/setup.js";

/** The work directory, owned by the soak's user when there is one. */
async function makeDirs(): Promise<SoakDirs> {
  const root = await mkdtemp(join(tmpdir(), "clawos-serve-soak-"));
  const owner = userIds(opts.user);
  const dirs: SoakDirs = {
    root,
    owner,
    home: join(root, "home"),
    blackboard: join(root, "blackboard"),
    decoy: join(root, "outside"),
    sshHome: join(root, "ssh-client"),
  };
  await mkdir(dirs.home, { recursive: true });
  await mkdir(dirs.sshHome, { recursive: true });
  if (owner) for (const dir of [root, dirs.home]) await chown(dir, owner.uid, owner.gid);
  return dirs;
}

/** Ctrl-C, kill or a harness bug: stop everything and remove the work directory. */
function cleanUpOnExit(dirs: SoakDirs, procs: Procs, stop: AbortController): void {
  const onSignal = () => {
    stop.abort();
    for (const p of procs.all) if (p.child && p.child.exitCode === null) p.child.kill("SIGKILL");
    void rm(dirs.root, { recursive: true, force: true }).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  // A bug in the harness itself must not leave the federation running.
  process.once("uncaughtException", (error) => {
    say(`harness error: ${error.stack ?? String(error)}`);
    onSignal();
  });
}

async function main(): Promise<number> {
  const dirs = await makeDirs();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dirs.home,
    CLAWOS_MACHINE: "hub",
    NO_COLOR: "1",
    CLAWOS_WORKER_AUTOSTART: "0",
  };
  const procs = makeProcs(env, dirs.owner);
  const stop = new AbortController();
  cleanUpOnExit(dirs, procs, stop);
  try {
    const decoyBefore = await startFederation(dirs, procs);
    const served = await startServe(dirs, procs);
    const run = await runLoad(dirs, procs, served, stop);
    const { listed, settled } = await settleTasks(procs, run.dispatched);
    for (const p of procs.all) await procs.stopProc(p);
    const evidence = await gatherEvidence(dirs, run, listed, decoyBefore, procs.all, served.server);
    const report = buildReport(run, evidence, served.server, settled);
    printSummary(report);
    if (opts.out) await writeFile(opts.out, `${JSON.stringify(report, null, 2)}\n`);
    return report.failures.length ? 1 : 0;
  } finally {
    stop.abort();
    killAll(procs);
    if (opts.keep) say(`kept ${dirs.root}`);
    else await rm(dirs.root, { recursive: true, force: true });
  }
}

process.exitCode = await main();
