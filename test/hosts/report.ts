/** The lab's report: one row per set-up and scenario, then the cross-host pickup per set-up. */
import { percentile, type ScenarioResult } from "./ledger.js";

const ms = (v: number | undefined) => (v === undefined ? "—" : `${Math.round(v)} ms`);

/** Which gateway each scenario talks to, printed at the start and under the report. */
export const GATEWAYS =
  "gateways: the real OpenClaw 2026.9.6 (offline, a fake model server on each host's loopback) for the cloud node, which is incubated, migrated and rolled back; the stub gateway (test/testkit) of each host's own node in every scenario, for speed";

export function printReport(results: ScenarioResult[], log: (line: string) => void): void {
  log("");
  log(
    "| set-up | scenario | dispatched | completed | lost | duplicated | pickup p50 | pickup p95 | time | result |",
  );
  log("|---|---|---|---|---|---|---|---|---|---|");
  for (const r of results) {
    log(
      `| ${r.setup} | ${r.scenario} | ${r.dispatched} | ${r.completed} | ${r.lost} | ${r.duplicated} | ${ms(percentile(r.pickupMs, 50))} | ${ms(percentile(r.pickupMs, 95))} | ${r.seconds.toFixed(0)} s | ${r.ok ? "ok" : "FAILED"} |`,
    );
  }
  log("");
  log(GATEWAYS);
  for (const setup of [...new Set(results.map((r) => r.setup))]) {
    const all = results.filter((r) => r.setup === setup).flatMap((r) => r.pickupMs);
    log(
      `${setup}: cross-host pickup (dispatch on the hub → claim on another host) n=${all.length}, p50 ${ms(percentile(all, 50))}, p95 ${ms(percentile(all, 95))}, max ${ms(all.length ? Math.max(...all) : undefined)}`,
    );
  }
}
