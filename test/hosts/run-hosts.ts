/**
 * npm run test:hosts — the multi-host lab (as root): three hosts in network namespaces
 * (mac-mini the hub, macbook-air, cloud), each with its own address, hostname, HOME and
 * gateway, run through the seed's scenarios in both blackboard set-ups: (a) a folder
 * replicated by Syncthing, (b) NATS with a JetStream hub and leaf servers. Prints a report per
 * set-up and scenario and fails on any failed scenario or lost or duplicated task.
 *   node dist/test/hosts/run-hosts.js [--setup syncthing|nats] [--only NAME] [--keep]
 * Gateways: see report.ts GATEWAYS (the real OpenClaw for the cloud node, installed into the
 * cache if missing; the stub gateway elsewhere, for speed).
 */
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { Lab } from "./lab.js";
import { Ledger, type ScenarioResult } from "./ledger.js";
import { removeStaleLabs } from "./netns.js";
import type { Kind } from "./recipe.js";
import { GATEWAYS, printReport } from "./report.js";
import { SCENARIOS } from "./scenarios.js";
import { syncthingVersion } from "./syncthing.js";

const { values } = parseArgs({
  options: {
    setup: { type: "string", multiple: true },
    only: { type: "string", multiple: true },
    keep: { type: "boolean", default: false },
  },
});

/**
 * On a quiet 2-core machine the lab takes about 8 minutes plus the cloud node's real gateway
 * starts (three per set-up, minutes each on a busy machine); CLAWOS_HOSTS_TIMEOUT_MS changes the limit.
 */
const HARD_LIMIT_MS = Number(process.env.CLAWOS_HOSTS_TIMEOUT_MS) || 40 * 60_000;
const kinds = (values.setup ?? ["syncthing", "nats"]) as Kind[];

function preflight(): void {
  if (process.getuid?.() !== 0) {
    process.stderr.write("test:hosts makes network namespaces: run it as root (or with sudo)\n");
    process.exit(2);
  }
  for (const [cmd, args, pkg] of [
    ["ip", ["-V"], "iproute2"],
    ["unshare", ["--version"], "util-linux"],
    ["syncthing", ["--version"], "syncthing"],
    ["nats-server", ["--version"], "nats-server"],
    ["faketime", ["--version"], "faketime"],
    ["curl", ["--version"], "curl"],
    ["/usr/sbin/sshd", ["-V"], "openssh-server"],
  ] as const) {
    try {
      execFileSync(cmd, [...args], { stdio: "ignore" });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        process.stderr.write(`test:hosts needs ${cmd}: apt-get install ${pkg}\n`);
        process.exit(2);
      }
    }
  }
}

let current: Lab | undefined;
/** What the lab is doing now, named when the hard limit stops it. */
let doing = "starting";
let cleaning = false;
async function cleanup(): Promise<void> {
  if (cleaning || !current) return;
  cleaning = true;
  await current.destroy(values.keep).catch((e) => process.stderr.write(`cleanup: ${String(e)}\n`));
  current = undefined;
  cleaning = false;
}
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.once(sig, () => {
    process.stderr.write(`\n${sig}: removing the lab\n`);
    cleanup().finally(() => process.exit(130));
  });
}
// Last resort on an exit path that skipped the async cleanup: namespaces and their processes.
process.once("exit", () => current?.network.destroy());

async function runSetup(kind: Kind, results: ScenarioResult[]): Promise<void> {
  const label = kind === "syncthing" ? "(a) Syncthing" : "(b) NATS";
  const lab = await Lab.create(kind);
  current = lab;
  try {
    doing = `${label}: setting up the hosts`;
    log(`${label}: hosts ${lab.all.map((h) => `${h.name} ${h.address}`).join(", ")}`);
    await lab.startGateways();
    await lab.startSsh();
    await lab.startBlackboard();
    await lab.initHub();
    const scenarios = SCENARIOS.filter((s) => !values.only || values.only.includes(s.name));
    if (scenarios.some((s) => s.realOpenClaw)) {
      const { install } = await lab.startOpenClaw(log);
      log(
        `${label}: OpenClaw ${install.installed ? `installed in ${install.seconds.toFixed(0)} s` : "cached"}: ${install.dir}`,
      );
    }
    for (const scenario of scenarios) {
      doing = `${label} · ${scenario.name}`;
      const ledger = new Ledger(lab);
      const begun = performance.now();
      let error: string | undefined;
      try {
        await scenario.run(lab, ledger);
      } catch (e) {
        error = e instanceof Error ? (e.stack ?? e.message) : String(e);
      }
      const tasks = await ledger.waitFinished(error ? 1000 : 60_000);
      const v = await ledger.verdict(tasks);
      if (!error && v.problems.length) error = v.problems.join("\n");
      const result: ScenarioResult = {
        setup: label,
        scenario: scenario.name,
        dispatched: ledger.expected.length,
        completed: v.completed,
        lost: v.lost,
        duplicated: v.duplicated,
        pickupMs: v.pickupMs,
        ok: !error && v.lost === 0 && v.duplicated === 0,
        seconds: (performance.now() - begun) / 1000,
        notes: ledger.notes,
        ...(error ? { error } : {}),
      };
      results.push(result);
      log(`${label} · ${scenario.name}: ${result.ok ? "ok" : "FAILED"} (${result.seconds.toFixed(1)} s)`);
      for (const note of ledger.notes) log(`  ${note}`);
      if (error) log(error);
    }
  } finally {
    if (values.keep) log(`kept: ${lab.root}`);
    await cleanup();
  }
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<number> {
  preflight();
  const stale = removeStaleLabs();
  if (stale.length) log(`removed a stale lab: ${stale.join(", ")}`);
  log(
    `test:hosts — ${await syncthingVersion()}; ${execFileSync("nats-server", ["--version"], { encoding: "utf8" }).trim()}`,
  );
  log(GATEWAYS);
  const timer = setTimeout(() => {
    process.stderr.write(
      `test:hosts: over ${HARD_LIMIT_MS / 60_000} minutes (at: ${doing}), stopping; CLAWOS_HOSTS_TIMEOUT_MS sets the limit\n`,
    );
    cleanup().finally(() => process.exit(1));
  }, HARD_LIMIT_MS);
  const results: ScenarioResult[] = [];
  for (const kind of kinds) await runSetup(kind, results);
  clearTimeout(timer);
  printReport(results, log);
  return results.every((r) => r.ok) && results.length > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  async (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    await cleanup();
    process.exit(1);
  },
);
