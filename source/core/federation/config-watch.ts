import { watch } from "node:fs";

/**
 * Call `onChange` (debounced) when federation.json in `home` is written: `clawos nodes add`,
 * `init` or an editor may change the registry while a long-running process uses it. Watches
 * the directory, since editors and our own atomic saves replace the file rather than write it.
 * Returns the function that stops watching; on a filesystem without watching it does nothing.
 */
export function watchConfigFile(home: string, onChange: () => void, debounceMs = 200): () => void {
  let timer: NodeJS.Timeout | undefined;
  try {
    const watcher = watch(home, { persistent: false }, (_event, name) => {
      if (name !== "federation.json") return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = undefined;
        onChange();
      }, debounceMs);
    });
    watcher.on("error", () => watcher.close());
    return () => {
      if (timer) clearTimeout(timer);
      watcher.close();
    };
  } catch {
    return () => {};
  }
}
