import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { NodeConfig, SshSettings } from "../domain/schema.js";
import { displayPath, expandTilde, userHome } from "../infra/paths.js";
import { knownKeyTypes, loadKnownHosts } from "../transport/known-hosts.js";
import { parseSshTarget } from "../transport/ssh-route.js";
import type { AddCheck } from "./doctor.js";

/** SSH: host keys known, identity usable, for every node with an SSH route. */
export async function checkSsh(nodes: NodeConfig[], env: NodeJS.ProcessEnv, add: AddCheck): Promise<void> {
  for (const node of nodes.filter((n) => n.ssh)) {
    const ssh = node.ssh!;
    await checkHostKey(node.id, ssh, env, add);
    await checkIdentity(node.id, ssh, env, add);
  }
}

async function checkHostKey(id: string, ssh: SshSettings, env: NodeJS.ProcessEnv, add: AddCheck) {
  const target = parseSshTarget(ssh.target);
  const knownHosts = expandTilde(ssh.knownHosts ?? "~/.ssh/known_hosts", env);
  const types = knownKeyTypes(await loadKnownHosts(knownHosts), target.host, target.port);
  if (types.length === 0) {
    add({
      area: "ssh",
      level: "fail",
      message: `${id}: no host key for ${target.host}${target.port === 22 ? "" : `:${target.port}`} in ${displayPath(knownHosts, env)}; the P0 route will refuse it`,
      fix: `check the fingerprint, then: ssh-keyscan ${target.port === 22 ? "" : `-p ${target.port} `}${target.host} >> ${knownHosts}`,
    });
  } else add({ area: "ssh", level: "ok", message: `${id}: host key known (${types.join(", ")})` });
}

/** The identity file if one is set (present, private), else an agent or a default key in ~/.ssh. */
async function checkIdentity(id: string, ssh: SshSettings, env: NodeJS.ProcessEnv, add: AddCheck) {
  if (ssh.identityFile) {
    const file = expandTilde(ssh.identityFile, env);
    const s = await stat(file).catch(() => undefined);
    if (!s)
      add({
        area: "ssh",
        level: "fail",
        message: `${id}: identity file ${displayPath(file, env)} is missing`,
        fix: "point ssh.identityFile at your private key",
      });
    else if (s.mode & 0o077)
      add({
        area: "ssh",
        level: "fail",
        message: `${id}: identity file ${displayPath(file, env)} is readable by others`,
        fix: `chmod 600 ${file}`,
      });
  } else if (!env.SSH_AUTH_SOCK) {
    const any = await Promise.all(
      ["id_ed25519", "id_ecdsa", "id_rsa"].map((n) =>
        stat(join(userHome(env), ".ssh", n)).catch(() => undefined),
      ),
    );
    if (!any.some(Boolean)) {
      add({
        area: "ssh",
        level: "fail",
        message: `${id}: no ssh-agent (SSH_AUTH_SOCK) and no key in ~/.ssh`,
        fix: "start ssh-agent and ssh-add your key, or set ssh.identityFile",
      });
    }
  }
}
