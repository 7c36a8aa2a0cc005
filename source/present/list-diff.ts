/** How far ahead a walk looks for the item it is at in the other list (a few went or came in a row). */
const LOOKAHEAD = 8;

/** Where `item` is in `list` within LOOKAHEAD places after `from`, or -1. */
function ahead<T>(list: readonly T[], from: number, item: T): number {
  const end = Math.min(list.length, from + 1 + LOOKAHEAD);
  for (let k = from + 1; k < end; k++) if (list[k] === item) return k;
  return -1;
}

/**
 * What changed from `prev` to `next`, by object identity: a walk over both lists in step
 * (a snapshot keeps the previous one's order, with a few items replaced, added or gone, a
 * few in a row when snapshots were skipped). Every item of both lists is either kept or in
 * `removed`/`added`, so the answer is exact whatever the lists hold; it is small only when
 * they are alike. Undefined once more than `limit` items differ. The walk compares
 * references only: a few microseconds for 10 000.
 */
export function diffByIdentity<T extends { id: string }>(
  prev: readonly T[],
  next: readonly T[],
  limit: number,
): { removed: T[]; added: T[] } | undefined {
  const removed: T[] = [];
  const added: T[] = [];
  const n = prev.length;
  const m = next.length;
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    const a = prev[i] as T;
    const b = next[j] as T;
    if (a === b) {
      i++;
      j++;
      continue;
    }
    const gone = a.id !== b.id ? ahead(prev, i, b) : -1;
    const came = gone < 0 && a.id !== b.id ? ahead(next, j, a) : -1;
    if (gone >= 0) {
      while (i < gone) removed.push(prev[i++] as T);
    } else if (came >= 0) {
      while (j < came) added.push(next[j++] as T);
    } else {
      removed.push(a);
      added.push(b);
      i++;
      j++;
    }
    if (removed.length + added.length > limit) return undefined;
  }
  if (removed.length + added.length + (n - i) + (m - j) > limit) return undefined;
  while (i < n) removed.push(prev[i++] as T);
  while (j < m) added.push(next[j++] as T);
  return { removed, added };
}
