import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** The federation home: `--home DIR`, else `CLAWOS_HOME`, else `~/.openclaw/clawos` (the seed's layout). */
export function resolveHome(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return resolve(explicit);
  if (env.CLAWOS_HOME) return resolve(env.CLAWOS_HOME);
  return join(userHome(env), ".openclaw", "clawos");
}

/** `HOME` wins over the passwd entry so tests (and users) can point it elsewhere. */
export function userHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.HOME || homedir();
}

export function configPath(home: string): string {
  return join(home, "federation.json");
}

export function defaultBlackboardPath(home: string): string {
  return join(home, "clawos-blackboard", "federation");
}

export function tokensDir(home: string): string {
  return join(home, "tokens");
}

/** OpenClaw state dir of a profile: null/"default" → ~/.openclaw, P → ~/.openclaw-P. */
export function openclawStateDir(profile: string | null, env: NodeJS.ProcessEnv = process.env): string {
  const base = userHome(env);
  return profile && profile !== "default" ? join(base, `.openclaw-${profile}`) : join(base, ".openclaw");
}

export function expandTilde(path: string, env: NodeJS.ProcessEnv = process.env): string {
  if (path === "~") return userHome(env);
  if (path.startsWith("~/")) return join(userHome(env), path.slice(2));
  return path;
}

/** For messages: show paths under HOME as ~/… */
export function displayPath(path: string, env: NodeJS.ProcessEnv = process.env): string {
  const home = userHome(env);
  return path === home ? "~" : path.startsWith(`${home}/`) ? `~/${path.slice(home.length + 1)}` : path;
}
