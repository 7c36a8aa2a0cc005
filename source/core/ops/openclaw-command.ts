import { access, constants } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { UserError } from "../domain/errors.js";
import { childProcess } from "../infra/child-process.js";

export async function findOnPath(command: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

/** What starts a local profile's gateway, and how a hint says it. */
export interface GatewayStart {
  /** OpenClaw is installed here (on PATH). */
  openclaw: boolean;
  command: string;
  /** The command with where to run it, for a hint. */
  words: string;
}

/**
 * Pure: with OpenClaw installed, its own command; without it (the README's demo path), the demo
 * gateway of the clawos checkout, which serves the profile's port and token and needs no model.
 */
export function gatewayStart(profile: string | null, openclawInstalled: boolean): GatewayStart {
  const named = profile && profile !== "default" ? profile : null;
  if (openclawInstalled) {
    const command = `openclaw ${named ? `--profile ${named} ` : ""}gateway run`;
    return { openclaw: true, command, words: command };
  }
  const command = `npm run demo:gateway -- ${named ?? "main"}`;
  return {
    openclaw: false,
    command,
    words: `${command} in the clawos checkout (a demo gateway: OpenClaw is not installed here)`,
  };
}

/** Is OpenClaw installed here: the one test behind every message that differs without it. */
export async function openclawInstalled(env: NodeJS.ProcessEnv): Promise<boolean> {
  return (await findOnPath("openclaw", env)) !== undefined;
}

/** What starts a local profile's gateway on this machine: one decision for every hint that names it. */
export async function gatewayStartHere(
  profile: string | null,
  env: NodeJS.ProcessEnv,
): Promise<GatewayStart> {
  return gatewayStart(profile, await openclawInstalled(env));
}

/** Run a command to its end; its exit code and the last 8000 characters of its output. */
export function runCommand(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdin?: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = childProcess().spawn(command, args, {
      env,
      stdio: [stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (stdin !== undefined) {
      child.stdin?.on("error", () => {}); // it exited without reading: its exit code says why
      child.stdin?.end(stdin);
    }
    let output = "";
    child.stdout?.on("data", (d: Buffer) => {
      output = (output + d.toString()).slice(-8_000);
    });
    child.stderr?.on("data", (d: Buffer) => {
      output = (output + d.toString()).slice(-8_000);
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, output }));
  });
}

/** Remove secrets the command echoed back before showing its output. */
function redact(text: string, ...secrets: string[]): string {
  for (const secret of secrets) if (secret) text = text.split(secret).join("<secret>");
  return text;
}

/** `what` failed: its last line of output, secrets removed, in one short error. */
export function commandFailed(
  what: string,
  result: { code: number | null; output: string },
  ...secrets: string[]
): UserError {
  const last =
    redact(result.output, ...secrets)
      .trim()
      .split("\n")
      .at(-1) ?? "";
  return new UserError(`${what} failed (exit ${result.code}): ${last}`.slice(0, 400));
}
