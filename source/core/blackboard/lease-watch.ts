import { z } from "zod";
import { notAfter } from "./foreign-time.js";

/**
 * The coordinator's view of claim leases, for any driver. A lease is judged by when *this*
 * clock saw the claim's version (a file's mtime, a record's revision) last change, never by
 * comparing another machine's timestamps with ours: a skewed clock never expires a lease early.
 *
 * The notes are kept between runs (in a store the driver provides): `clawos node run --once`
 * from cron is a new process every time, and a lease can only be judged expired by one clock
 * watching it stay unrenewed for leaseMs. Notes another machine wrote are ignored (its clock is
 * not ours).
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
}

interface Sighting {
  version: number;
  seenAt: number;
}

export class LeaseWatch {
  private readonly seen = new Map<string, Sighting>();
  private readonly present = new Set<string>();
  private recalled = false;
  private written = "";
  private readonly notes: z.ZodType<{ host: string; leases: Record<string, Record<string, number>> }>;

  constructor(private readonly options: LeaseWatchOptions) {
    this.notes = z.object({
      host: z.string(),
      leases: z.record(z.string(), z.object({ [options.versionField]: z.number(), seenAt: z.number() })),
    }) as unknown as z.ZodType<{ host: string; leases: Record<string, Record<string, number>> }>;
  }

  /** Start a reaping round: the saved notes are recalled once per process. */
  async beginRound(now: number): Promise<void> {
    this.present.clear();
    if (this.recalled) return;
    this.recalled = true;
    const parsed = this.notes.safeParse(await this.options.store.load().catch(() => undefined));
    if (!parsed.success || parsed.data.host !== this.options.machine) return;
    for (const [key, note] of Object.entries(parsed.data.leases)) {
      // A note from the future (this clock was set back, or someone wrote it) counts from now.
      if (!this.seen.has(key))
        this.seen.set(key, {
          version: note[this.options.versionField]!,
          seenAt: notAfter(note.seenAt!, now),
        });
    }
  }

  /**
   * A claim seen in this round at `version`: how long its lease has stood unrenewed, or
   * undefined when this is the first sight of that version (the count starts now).
   */
  unrenewedFor(key: string, version: number, now: number): number | undefined {
    this.present.add(key);
    const seen = this.seen.get(key);
    if (!seen || seen.version !== version) {
      this.seen.set(key, { version, seenAt: now });
      return undefined;
    }
    return now - seen.seenAt;
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
    const json = JSON.stringify({ host: this.options.machine, leases });
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
