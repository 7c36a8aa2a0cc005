import type { NatsLink } from "./connection.js";
import { isWrongLastSequence } from "./js-errors.js";
import { newToken } from "./record.js";

const KEY = "coordinator";
const decoder = new TextDecoder();

/**
 * The coordinator lease: key "coordinator" in the leases bucket says which handle holds it.
 * The holder renews it by CAS; others take it over by CAS once its revision has not moved for
 * a lease, by their own clock (as with task leases: no cross-machine clocks). Two
 * coordinators for a moment are harmless: every duty is a CAS.
 */
export class CoordinatorLease {
  /** This handle's identity in the lease. */
  private readonly token = newToken();
  /** The other holder's revision as last seen, and when (by our clock). */
  private seen: { rev: number; seenAt: number } | undefined;

  constructor(private readonly link: NatsLink) {}

  async take(holder: string, leaseMs: number): Promise<boolean> {
    const { link } = this;
    const entry = await link.io("read the coordinator lease", () => link.kv.leases.get(KEY));
    const now = link.now();
    const data = JSON.stringify({ holder: holder.slice(0, 200), token: this.token, at: link.stamp() });
    const write = async (over: number | undefined): Promise<boolean> => {
      try {
        await link.io("write the coordinator lease", () =>
          over === undefined ? link.kv.leases.create(KEY, data) : link.kv.leases.update(KEY, data, over),
        );
        this.seen = undefined;
        return true;
      } catch (error) {
        if (isWrongLastSequence(error)) return false; // someone else moved first
        throw error;
      }
    };
    if (entry?.operation !== "PUT") return write(entry?.revision);
    // Unreadable: treated like another holder's, taken over when it stays still.
    if (tokenOf(entry.value) === this.token) return write(entry.revision);
    const seen = this.seen;
    if (!seen || seen.rev !== entry.revision) {
      this.seen = { rev: entry.revision, seenAt: now };
      return false;
    }
    if (now - seen.seenAt < leaseMs) return false;
    return write(entry.revision);
  }

  async release(): Promise<void> {
    const { link } = this;
    const entry = await link.io("read the coordinator lease", () => link.kv.leases.get(KEY));
    if (entry?.operation !== "PUT") return;
    if (tokenOf(entry.value) !== this.token) return; // not ours (any more): nothing to give up
    try {
      // Only that very revision: if someone took it over meanwhile, theirs stays.
      await link.io("release the coordinator lease", () =>
        link.kv.leases.delete(KEY, { previousSeq: entry.revision }),
      );
    } catch (error) {
      if (!isWrongLastSequence(error)) throw error;
    }
  }
}

function tokenOf(value: Uint8Array): unknown {
  try {
    return (JSON.parse(decoder.decode(value)) as { token?: unknown }).token;
  } catch {
    return undefined;
  }
}
