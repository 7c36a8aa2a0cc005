import { createInterface } from "node:readline/promises";
import type { CliContext } from "./context.js";

/** Whether a person can answer a question: stdin and stdout are both a terminal. */
export function canAsk(ctx: CliContext): boolean {
  return Boolean(ctx.io.stdin.isTTY && ctx.io.stdout.isTTY);
}

/** A yes/no question on the terminal (on stderr, so stdout stays the command's output); no is the default. */
export async function askYesNo(ctx: CliContext, question: string): Promise<boolean> {
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr, terminal: true });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^\s*y(es)?\s*$/i.test(answer);
  } finally {
    rl.close();
  }
}
