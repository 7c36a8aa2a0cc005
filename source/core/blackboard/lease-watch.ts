import { z } from "zod";
import { lazySchema } from "../domain/lazy-schema.js";
import { notAfter } from "./foreign-time.js";

/**
 * The coordinator's view of claim leases, for any driver. A lease is judged by how long *this
 * machine* has seen the claim's version (a file's mtime, a record's revision) stay the same,
 * never by comparing another machine's timestamps with ours: a skewed clock never expires a
 * lease early.
 *
 * That time is taken on the machine's monotonic clock, not its wall clock. The notes are kept
 * between runs (in a store the driver provides): `clawos node run --once` from cron is a new
 * process every time, and two coordinators of one machine (say, a worker started by hand beside
 * the one `clawos init` started) share one set of notes. Wall clocks can differ between those
 * processes (one under faketime) or be stepped between two runs (NTP after a wake); a sighting
 * stamped by one wall clock and read against another would age the lease by the difference.
 * Every process of a machine shares the monotonic clock, and no step or skew moves it. It
 * starts again from zero at a reboot, so a note from before one looks younger than it is (or
 * lies in the future, and counts from now): late, never early. Notes another machine wrote are
 * ignored (its clock is not ours).
 */
export interface LeaseNotesStore {
  /** The notes as last saved (parsed JSON), undefined if there are none or they cannot be read. */
  load(): Promise<unknown>;
  /** Save the notes; may throw (the next round tries again). */
  save(json: string): Promise<void>;
}

export interface LeaseWatchOptions {
  /** This machine's name: notes saved under another name are not ours. */
  machine: string;
  /** The name the version goes by in the saved notes ("mtimeMs", "rev"): each driver keeps its format. */
  versionField: string;
  store: LeaseNotesStore;
  /** Milliseconds on the clock leases are timed by (default: the machine's monotonic clock). */
  clock?: () => number;
}

/** The machine's monotonic clock in ms (CLOCK_MONOTONIC on Linux): one for all its processes. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
}

/**
 * A driver's LeaseWatch clock from its options: `leaseClock` if given, else an injected wall
 * `clock` (a test moving one clock by hand), else the default monotonic one.
 */
export function leaseClockOf(options: { clock?: () => number; leaseClock?: () => number }): {
  clock?: () => number;
} {
  const clock = options.leaseClock ?? options.clock;
  return clock ? { clock } : {};
}

/** Which clock the saved stamps are on; notes without it (wall-clock stamps) are not recalled. */
const NOTES_CLOCK = "monotonic";

interface Sighting {
  version: number;
  seenAt: number;
}

export class LeaseWatch {
  private readonly seen = new Map<string, Sighting>();
  private readonly present = new Set<string>();
  private recalled = false;
  private written = "";
  /** The lease clock's time when this round began: every sighting of a round is stamped with it. */
  private now = 0;
  private readonly clock: () => number;
  private readonly notes: z.ZodType<{ host: string; leases: Record<string, Record<string, number>> }>;

  constructor(private readonly options: LeaseWatchOptions) {
    this.clock = options.clock ?? monotonicMs;
    // Built on the first reaping round: every command that opens the board makes a LeaseWatch.
    this.notes = lazySchema(
      () =>
        z.object({
          host: z.string(),
          clock: z.literal(NOTES_CLOCK),
          leases: z.record(z.string(), z.object({ [options.versionField]: z.number(), seenAt: z.number() })),
        }) as unknown as z.ZodType<{ host: string; leases: Record<string, Record<string, number>> }>,
    );
  }

  /** Start a reaping round: the saved notes are recalled once per process. */
  async beginRound(): Promise<void> {
    this.now = this.clock();
    this.present.clear();
    if (this.recalled) return;
    this.recalled = true;
    const parsed = this.notes.safeParse(await this.options.store.load().catch(() => undefined));
    if (!parsed.success || parsed.data.host !== this.options.machine) return;
    for (const [key, note] of Object.entries(parsed.data.leases)) {
      // A note from the future (written before a reboot, or planted) counts from now.
      if (!this.seen.has(key))
        this.seen.set(key, {
          version: note[this.options.versionField]!,
          seenAt: notAfter(note.seenAt!, this.now),
        });
    }
  }

  /**
   * A claim seen in this round at `version`: how long its lease has stood unrenewed, or
   * undefined when this is the first sight of that version (the count starts now).
   */
  unrenewedFor(key: string, version: number): number | undefined {
    this.present.add(key);
    const seen = this.seen.get(key);
    if (!seen || seen.version !== version) {
      this.seen.set(key, { version, seenAt: this.now });
      return undefined;
    }
    return this.now - seen.seenAt;
  }

  /** The claim was reaped: its next claim starts a new count. */
  forget(key: string): void {
    this.seen.delete(key);
  }

  /** End a round: claims not seen in it are forgotten, and the notes are saved if they changed. */
  async endRound(): Promise<void> {
    for (const key of this.seen.keys()) if (!this.present.has(key)) this.seen.delete(key);
    const leases = Object.fromEntries(
      [...this.seen].map(([key, s]) => [key, { [this.options.versionField]: s.version, seenAt: s.seenAt }]),
    );
    const json = JSON.stringify({ host: this.options.machine, clock: NOTES_CLOCK, leases });
    if (json === this.written) return;
    try {
      await this.options.store.save(json);
      this.written = json;
    } catch {
      // Losing the notes only restarts the count of each lease.
    }
  }
}

/** A machine name as one safe file or key component: two coordinators never share notes. */
export function machineKey(machine: string): string {
  return machine.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 100);
}
