import { delimiter, dirname, resolve, sep } from "node:path";

/**
 * How the user started this CLI, as the command a hint should name: "npx clawos" when npm ran
 * it (`npx clawos`, `npm exec`, `npm start`: a checkout, where a bare `clawos` is not a
 * command), else "clawos" when the script's directory is on PATH (installed globally, or a
 * `node_modules/.bin` the user put on PATH), else "npx clawos" for a script inside a
 * node_modules folder, else "clawos".
 */
export function detectInvocation(env: NodeJS.ProcessEnv, script: string | undefined): string {
  if (env.npm_command) return "npx clawos";
  if (!script) return "clawos";
  const dir = dirname(resolve(script));
  const onPath = (env.PATH ?? "")
    .split(delimiter)
    .filter((p) => p !== "")
    .some((p) => resolve(p) === dir);
  if (onPath) return "clawos";
  return `${dir}${sep}`.includes(`${sep}node_modules${sep}`) ? "npx clawos" : "clawos";
}
