/**
 * The TUI, open in a real pty for the whole soak: its memory over time (a leak shows), and at
 * the end whether it still answers a key and quits with the terminal restored.
 */
import { type PtySession, spawnInPty } from "../../../test/testkit/pty-harness.js";
import { round } from "../../lib.js";
import { elapsedS, say } from "./plan.js";
import { cpuSeconds, programs, rssKiB } from "./processes.js";

export class TuiWatch {
  readonly pid: number;
  private readonly cpuAtStart: { s: number; at: number };
  private peakRss: number;
  /** The TUI runs the whole time: its memory over time shows a leak if there is one. */
  private readonly rss: { atS: number; mib: number }[];
  private exitedEarly: string | undefined;
  private quitting = false;

  private constructor(
    readonly session: PtySession,
    ending: () => boolean,
  ) {
    this.pid = session.pid;
    this.cpuAtStart = { s: cpuSeconds(this.pid), at: Date.now() };
    this.peakRss = rssKiB(this.pid);
    this.rss = [{ atS: elapsedS(), mib: round(this.peakRss / 1024, 1) }];
    void session.exit.then((e) => {
      if (!ending() && !this.quitting) {
        this.exitedEarly = `exit code ${e.exitCode}${e.signal ? `, signal ${e.signal}` : ""} at ${elapsedS()} s`;
        say(`!! the TUI exited: ${this.exitedEarly}`);
      }
    });
  }

  /** `clawos tui` on the hub, once it shows the first node. */
  static async open(hubEnv: NodeJS.ProcessEnv, heapMb: string | undefined, ending: () => boolean) {
    const session = spawnInPty(process.execPath, [programs.bin, "tui"], {
      cols: 120,
      rows: 40,
      env: {
        ...hubEnv,
        CI: "true",
        CLAWOS_HOME: undefined,
        NODE_OPTIONS: heapMb ? `--max-old-space-size=${Number(heapMb)}` : undefined,
      },
      timeoutMs: 30_000,
    });
    await session.waitForText(/w1/, 30_000);
    return new TuiWatch(session, ending);
  }

  sample(): void {
    if (this.session.exited) return;
    const kib = rssKiB(this.pid);
    this.peakRss = Math.max(this.peakRss, kib);
    this.rss.push({ atS: elapsedS(), mib: round(kib / 1024, 1) });
  }

  /** Still there, still answering a key, quits cleanly: the TUI part of the report. */
  async finish(): Promise<{ ok: boolean; report: Record<string, unknown> }> {
    const tui = this.session;
    const report: Record<string, unknown> = { exitedEarly: this.exitedEarly ?? null };
    let ok = false;
    if (!tui.exited) {
      this.peakRss = Math.max(this.peakRss, rssKiB(this.pid));
      report.rssAtEndMiB = round(rssKiB(this.pid) / 1024, 1);
      const cpu = cpuSeconds(this.pid) - this.cpuAtStart.s;
      report.cpuSeconds = round(cpu, 1);
      report.cpuShareOfOneCore = round(cpu / ((Date.now() - this.cpuAtStart.at) / 1000), 3);
      ok = await this.answersAndQuits(report);
    }
    report.ok = ok;
    report.peakRssMiB = round(this.peakRss / 1024, 1);
    // Memory at the start, at each quarter of the run, and at the end.
    report.rssMiBOverTime = [0, 0.25, 0.5, 0.75, 1].map(
      (q) => this.rss[Math.min(this.rss.length - 1, Math.round(q * (this.rss.length - 1)))],
    );
    say(
      `TUI: ${ok ? "answered ? and quit cleanly" : `FAILED ${JSON.stringify(report.error ?? report.exitedEarly)}`}`,
    );
    return { ok, report };
  }

  private async answersAndQuits(report: Record<string, unknown>): Promise<boolean> {
    const tui = this.session;
    const before = tui.screenText();
    report.screenAtEnd = before
      .split("\n")
      .slice(0, 14)
      .map((l) => l.trimEnd());
    try {
      // "A key changes the screen", whatever the help says this week: the overlay redraws most
      // rows; live updates alone (heartbeat ages) touch only the few node rows.
      const changedRows = () => {
        const now = tui.screenLines();
        const was = before.split("\n");
        return now.filter((line, i) => line.trimEnd() !== (was[i] ?? "").trimEnd()).length;
      };
      const t1 = performance.now();
      tui.write("?");
      await tui.waitFor(() => changedRows() >= 8, "the help overlay (8+ rows changed)", 15_000);
      report.helpOpenMs = round(performance.now() - t1, 1);
      report.rowsChangedByHelp = changedRows();
      const t2 = performance.now();
      tui.write("?");
      await tui.waitFor(() => changedRows() <= 5, "the main view again", 15_000);
      report.helpCloseMs = round(performance.now() - t2, 1);
      this.quitting = true;
      tui.write("q");
      const exit = await tui.waitForExit(15_000);
      report.quitExitCode = exit.exitCode;
      report.terminalRestored = !tui.isAlternateBuffer() && tui.isCursorVisible();
      return exit.exitCode === 0 && report.terminalRestored === true;
    } catch (error) {
      report.error = String(error).split("\n")[0];
      report.screenOnError = tui.screenLines().map((l) => l.trimEnd());
      return false;
    }
  }
}
