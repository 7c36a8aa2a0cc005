import { stat } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import type { Command } from "commander";
import { UserError } from "../core/domain/errors.js";
import type { FederationConfig, TokenSource } from "../core/domain/schema.js";
import { updateLocalSettings } from "../core/federation/registry.js";
import { expandTilde } from "../core/infra/paths.js";
import { sanitizeLine } from "../core/infra/sanitize.js";
import type { CliContext } from "./context.js";

interface AccessFlags {
  tokenFile?: string;
  tokenEnv?: string;
  /** false with --no-token. */
  token?: boolean;
  profileToken?: boolean;
  identityFile?: string;
  knownHosts?: string;
}

/**
 * `clawos nodes access NODE`: what this machine uses to reach a node, whichever machine owns it:
 * the gateway's token source and the SSH key settings. Kept in this machine's federation.json,
 * never on the blackboard, so a hub can send urgent tasks to another machine's node.
 */
export function registerAccess(nodes: Command, ctx: CliContext): void {
  nodes
    .command("access")
    .description("how this machine reaches a node (its token, SSH key); kept here, never shared")
    .argument("<id>")
    .option("--token-file <path>", "the gateway token is in this file (mode 0600)")
    .option("--token-env <var>", "the gateway token is in this environment variable")
    .option("--no-token", "the gateway needs no token")
    .option("--profile-token", "read the token from the node's OpenClaw profile here (the default)")
    .option("--identity-file <path>", "the private key to log in to its machine over SSH")
    .option("--known-hosts <path>", "the known_hosts file with its machine's host key")
    .action(ctx.action((id: string, flags: AccessFlags) => access(ctx, id, flags)));
}

async function access(ctx: CliContext, id: string, flags: AccessFlags): Promise<void> {
  const env = ctx.io.env;
  const sources = [flags.tokenFile, flags.tokenEnv, flags.token === false, flags.profileToken].filter(
    Boolean,
  );
  if (sources.length > 1)
    throw new UserError("Give one token source: --token-file, --token-env, --no-token or --profile-token.", {
      code: "usage",
    });
  const node = await ctx.withCore(async (core) => core.node(id));
  const token: TokenSource | undefined = flags.tokenFile
    ? { file: await tokenFile(flags.tokenFile, env) }
    : flags.tokenEnv
      ? { env: flags.tokenEnv }
      : flags.token === false
        ? { none: true }
        : flags.profileToken
          ? { profile: true }
          : undefined;
  // The key paths given now, over those kept before (the node's view holds them merged).
  const ssh: FederationConfig["ssh"][string] | undefined =
    flags.identityFile || flags.knownHosts
      ? dropUndefined({
          identityFile: flags.identityFile ? absolute(flags.identityFile, env) : node.ssh?.identityFile,
          knownHosts: flags.knownHosts ? absolute(flags.knownHosts, env) : node.ssh?.knownHosts,
        })
      : undefined;
  if (token || ssh)
    await updateLocalSettings(ctx.home(), { id, ...(token ? { token } : {}), ...(ssh ? { ssh } : {}) });
  // What this machine now holds for it, without opening the federation a second time.
  const now = {
    ...node,
    token: token ?? node.token,
    ...(node.ssh ? { ssh: { ...node.ssh, ...ssh } } : {}),
  };
  ctx.say(`${id} (on ${sanitizeLine(now.machine)}), as this machine reaches it:`);
  ctx.say(`  token: ${describeToken(now.token)}`);
  ctx.say(
    now.ssh
      ? `  ssh:   ${sanitizeLine(now.ssh.target)}, key ${now.ssh.identityFile ?? "~/.ssh/id_* or the agent"}, host keys in ${now.ssh.knownHosts ?? "~/.ssh/known_hosts"}`
      : `  ssh:   no SSH target (its owner sets one: clawos join … --ssh user@host, or clawos nodes add ${id} --replace --ssh user@host)`,
  );
}

function describeToken(token: TokenSource): string {
  if ("file" in token) return `from the file ${token.file}`;
  if ("env" in token) return `from the environment variable ${token.env}`;
  if ("none" in token) return "none (the gateway needs none)";
  return "from the node's OpenClaw profile on this machine";
}

function absolute(path: string, env: NodeJS.ProcessEnv): string {
  const expanded = expandTilde(path, env);
  return isAbsolute(expanded) ? expanded : resolve(expanded);
}

/** The token file, absolute, once it exists and only its owner can read it. */
async function tokenFile(path: string, env: NodeJS.ProcessEnv): Promise<string> {
  const file = absolute(path, env);
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile())
    throw new UserError(`No token file at ${file}.`, {
      hint: "copy the gateway's token there first (install -m 600 … FILE), then run this again",
      code: "usage",
    });
  if (info.mode & 0o077)
    throw new UserError(
      `The token file ${file} can be read by others (mode ${(info.mode & 0o777).toString(8)}).`,
      {
        hint: `chmod 600 ${file}`,
        code: "usage",
      },
    );
  return file;
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
