import { loadConfig } from "./core/config.js";
import { describeError } from "./core/errors.js";
import { LiveFederation } from "./core/live-federation.js";

/** `clawos tui`: open the live facade and hand it to the UI; the UI restores the terminal however it ends. */
export async function startTui(options: {
  home: string;
  env: NodeJS.ProcessEnv;
  readonly: boolean;
  err: (line: string) => void;
}): Promise<number> {
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    options.err("clawos: the control center needs a terminal. For a one-shot view use: clawos status");
    return 2;
  }
  const { config } = await loadConfig(options.home);
  const live = await LiveFederation.open(options.home, options.env);
  try {
    const { runTui } = await import("./ui/run-tui.js");
    await runTui(live, {
      stdin: process.stdin,
      stdout: process.stdout,
      readonly: options.readonly,
      keys: config.keys,
    });
    return 0;
  } catch (error) {
    options.err(`clawos: ${describeError(error)}`);
    return 1;
  } finally {
    await live.close();
  }
}
