/**
 * Soak (issue 7): a small federation under steady load and chaos for a while, then a
 * count of every task from the blackboard itself. Lost and duplicated must be 0.
 *
 *   node dist/bench/suites/soak.js [--duration 10m] [--fs auto|ext4|tmpfs|none] [--fs-size-mb 128]
 *     [--seed N] [--dispatchers 2] [--settle 5m] [--chunk-delay-ms 150] [--disk-full-hold 20s]
 *     [--tui-heap-mb N] [--out report.json] [--keep] [--no-snapshot]
 *   (SOAK_DURATION, SOAK_FS and SOAK_SEED set the same defaults from the environment.)
 *   Run it with Node 24 (node_modules/.bin/node) as root; results: BENCHMARKS.md, "Soak".
 *   The CLI runs from a copy of dist/ taken at the start (others may rebuild dist/ meanwhile);
 *   --keep keeps the work directory and its process logs; a failed run copies the logs
 *   next to --out.
 *
 * What runs, all real processes on 127.0.0.1:
 *   - 3 stub OpenClaw gateways (test/testkit/stub-gateway-main), one per "remote" node;
 *   - 3 workers, `clawos node run --node wN --no-coordinator`, each with CLAWOS_MACHINE=boxN;
 *   - the hub coordinator, `clawos node run --coordinator` (CLAWOS_MACHINE=hub);
 *   - the TUI, `clawos tui`, in a real pty for the whole run;
 *   - dispatchers: `clawos dispatch TEXT --to wN|any --priority P0..P3 --json`, one after another.
 * Chaos meanwhile: SIGKILL of a worker (sometimes the coordinator), restarted after a pause;
 * a gateway SIGKILLed and started again on the same port; a malformed file dropped into an
 * inbox; and the blackboard's filesystem filled to the last block for ~20 s.
 *
 * The blackboard lives on a small filesystem of its own so that "disk full" is a real
 * ENOSPC: a loop-mounted ext4 image (default), or a tmpfs. This needs root (mount); with
 * --fs none, or when mounting is refused, the disk-full episodes are skipped and the
 * report says so.
 *
 * At the end: stop dispatching and chaos, let the workers drain everything, check the TUI
 * still answers a key, stop every process with SIGTERM (they must exit cleanly), then
 * audit the blackboard (bench/suites/soak/audit.ts). Exit 1 if anything was lost or duplicated,
 * a process crashed, or the TUI stopped answering.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, unlink, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { machineInfo } from "../lib.js";
import { auditBlackboard } from "./soak/audit.js";
import { snapshotBuild, sourceState } from "./soak/build-copy.js";
import { exists, fillerPath, startChaos } from "./soak/chaos.js";
import { startDispatchers } from "./soak/dispatch.js";
import { type Federation, type SoakRun, startFederation, stopFederation } from "./soak/federation.js";
import { DISPATCHERS, DURATION_MS, expectedReply, JUNK_PREFIX, opts, SEED, say } from "./soak/plan.js";
import { oneOffs, programs, runCli } from "./soak/processes.js";
import { buildReport, printReport } from "./soak/report.js";
import { settle } from "./soak/settle.js";
import { mountSmallFs, type SmallFs } from "./soak/small-fs.js";
import { TuiWatch } from "./soak/tui-watch.js";

const run = promisify(execFile);

async function main(): Promise<number> {
  const root = await mkdtemp(join(tmpdir(), "clawos-soak-"));
  const home = join(root, "home");
  const logs = join(root, "logs");
  await mkdir(home, { recursive: true });
  await mkdir(logs, { recursive: true });
  const soakRun: SoakRun = {
    root,
    home,
    logs,
    hubEnv: {
      PATH: process.env.PATH,
      HOME: home,
      CLAWOS_MACHINE: "hub",
      NO_COLOR: "1",
      CLAWOS_WORKER_AUTOSTART: "0",
    },
    managed: [],
    crashes: [],
    ending: false,
  };
  const chaosStop = new AbortController();
  let tui: TuiWatch | undefined;
  let fs: SmallFs | undefined;
  let cleanedUp = false;

  const cleanup = async () => {
    if (cleanedUp) return;
    cleanedUp = true;
    soakRun.ending = true;
    chaosStop.abort();
    tui?.session.dispose();
    for (const c of oneOffs) c.kill("SIGKILL");
    await Promise.all(soakRun.managed.map((m) => m.stop("SIGKILL", 5_000)));
    await Promise.all(soakRun.managed.map((m) => m.close()));
    if (fs) {
      await unlink(fillerPath(fs)).catch(() => {});
      await fs.unmount();
    }
    if (!opts.keep) await rm(root, { recursive: true, force: true });
    else say(`kept ${root} (logs in ${logs})`);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    say(`${signal}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    return await soak(soakRun, chaosStop, {
      mounted: (f) => {
        fs = f;
      },
      tuiOpen: (t) => {
        tui = t;
      },
    });
  } finally {
    await cleanup();
  }
}

/** The run itself; `hooks` hand main() what its cleanup must undo. */
async function soak(
  soakRun: SoakRun,
  chaosStop: AbortController,
  hooks: { mounted: (fs: SmallFs) => void; tuiOpen: (tui: TuiWatch) => void },
): Promise<number> {
  const { root, hubEnv, managed } = soakRun;
  const machine = machineInfo();
  say(`duration ${DURATION_MS / 1000} s, seed ${SEED}, work dir ${root}`);
  if (!opts["no-snapshot"]) ({ bin: programs.bin, stub: programs.stubMain } = await snapshotBuild(root));
  const version = await runCli(["--version"], hubEnv);
  if (version.code !== 0) throw new Error(`the CLI does not start: ${version.stderr}`);
  const source = await sourceState();
  say(
    `clawos ${version.stdout.trim()} from ${programs.bin} (commit ${source.commit}, ${source.changedFiles.length} changed file(s) under source/)`,
  );
  const fs = await mountSmallFs(root);
  hooks.mounted(fs);
  say(`blackboard filesystem: ${fs.note}`);
  const blackboard = join(fs.dir, "federation");

  const federation = await startFederation(soakRun, blackboard);
  const tui = await TuiWatch.open(hubEnv, opts["tui-heap-mb"], () => soakRun.ending);
  hooks.tuiOpen(tui);
  say("TUI is open in a pty");

  const loads: number[] = [];
  const sampler = setInterval(() => {
    for (const m of managed) m.sampleRss();
    tui.sample();
    loads.push(loadavg()[0]!);
  }, 5_000);

  const { dispatch, chaos } = await chaosPhase(soakRun, federation, blackboard, fs, chaosStop);
  const settled = await settle(hubEnv, blackboard, dispatch.dispatched, chaos.junk);
  const tuiResult = await tui.finish();

  // ── node table at the end, then stop everything with SIGTERM (must exit cleanly)
  const nodesAtEnd = await nodeTable(hubEnv);
  clearInterval(sampler);
  for (const m of managed) m.sampleRss();
  soakRun.ending = true;
  const stops = await stopFederation(federation);

  const audit = await auditBlackboard(blackboard, dispatch.dispatched, settled.listed, {
    junkPrefix: JUNK_PREFIX,
    expectedReply,
  });
  audit.listCounts = settled.listCounts ?? {};
  const junkLeft = (
    await Promise.all(chaos.junk.map(async (j) => ((await exists(j.path)) ? j : undefined)))
  ).filter((j) => j !== undefined);

  const report = buildReport({
    source,
    machine,
    fs,
    settle: settled,
    tui: tuiResult,
    nodesAtEnd,
    stops,
    crashes: soakRun.crashes,
    managed,
    loads,
    dispatch,
    chaos,
    junkLeft,
    audit,
  });
  printReport(report, audit);
  if (opts.out) await writeFile(opts.out, `${JSON.stringify(report, null, 2)}\n`);
  if (report.failures.length && !opts.keep) {
    // Keep the evidence: copy the process logs next to the report before the work dir goes.
    const dest = `${opts.out ?? join(tmpdir(), `clawos-soak-${SEED}`)}.logs`;
    await rm(dest, { recursive: true, force: true });
    await run("cp", ["-r", soakRun.logs, dest]).catch(() => {});
    say(`logs of the failed run copied to ${dest}`);
  }
  return report.failures.length ? 1 : 0;
}

/** Dispatchers and chaos for --duration, then everything up again. */
async function chaosPhase(
  soakRun: SoakRun,
  federation: Federation,
  blackboard: string,
  fs: SmallFs,
  chaosStop: AbortController,
) {
  let chaos: ReturnType<typeof startChaos> | undefined;
  // Dispatchers draw from the seeded random source before the chaos loops do, as they always have.
  const dispatchers = startDispatchers(DISPATCHERS, soakRun.hubEnv, () => chaos?.log.diskFullNow ?? false);
  chaos = startChaos({ ...federation, blackboard, fs }, chaosStop.signal);
  const progress = setInterval(() => {
    say(
      `${dispatchers.log.dispatched.length} dispatched, ${dispatchers.log.refused.length} refused; load ${loadavg()[0]!.toFixed(2)}; crashes ${soakRun.crashes.length}`,
    );
  }, 30_000);

  await sleep(DURATION_MS);
  say("time is up: stopping the dispatchers and the chaos");
  const stopping = dispatchers.stop();
  chaosStop.abort();
  await stopping;
  await chaos.done;
  clearInterval(progress);
  // Everything up again (a crash restart may still be under way).
  for (const m of soakRun.managed) {
    while (m.busy) await sleep(200);
    if (!m.pid) await m.start();
  }
  return { dispatch: dispatchers.log, chaos: chaos.log };
}

async function nodeTable(hubEnv: NodeJS.ProcessEnv): Promise<unknown> {
  const status = await runCli(["status", "--json"], hubEnv);
  try {
    return (
      JSON.parse(status.stdout) as { nodes: { id: string; status: string; reason: string }[] }
    ).nodes.map((n) => `${n.id}: ${n.status} (${n.reason})`);
  } catch {
    return status.stderr.trim();
  }
}

process.exitCode = await main();
