/**
 * Holds streamed deltas until `releaseSoon()` and one turn of the event loop after it, so a
 * caller that prints something when dispatch() returns prints it before the answer's words.
 */
export function holdDeltas(
  onDelta: ((delta: string) => void) | undefined,
): { onDelta: (delta: string) => void; releaseSoon: () => Promise<void> } | undefined {
  if (!onDelta) return undefined;
  let held: string[] | undefined = [];
  return {
    onDelta: (delta) => (held ? held.push(delta) : onDelta(delta)),
    releaseSoon: () =>
      new Promise<void>((resolve) =>
        setImmediate(() => {
          const pending = held ?? [];
          held = undefined;
          for (const delta of pending) onDelta(delta);
          resolve();
        }),
      ),
  };
}
