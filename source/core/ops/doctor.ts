import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { chmod, lstat, open, readdir, readFile, rm, stat, statfs } from "node:fs/promises";
import { join } from "node:path";
import JSON5 from "json5";
import { describeError, UserError } from "../domain/errors.js";
import { FederationCore } from "../federation/federation.js";
import {
  blackboardDir,
  type LoadedConfig,
  loadConfig,
  routeOf,
  thisMachine,
  tokenFilePath,
} from "../infra/config.js";
import { displayPath, expandTilde, openclawStateDir, userHome } from "../infra/paths.js";
import { knownKeyTypes, loadKnownHosts } from "../transport/known-hosts.js";
import { parseSshTarget } from "../transport/ssh-route.js";
import { portOverlaps } from "./gateway-ports.js";

export type CheckLevel = "ok" | "warn" | "fail";

export interface Check {
  area: string;
  level: CheckLevel;
  message: string;
  fix?: string;
  /** Set when --fix repaired it. */
  fixed?: boolean;
}

const LOW_SPACE_BYTES = 200 * 1024 * 1024;

/** `clawos doctor`: one line per finding, each with the fix. `fix` repairs only what is safe to repair. */
export async function runDoctor(
  home: string,
  env: NodeJS.ProcessEnv,
  options: { fix?: boolean } = {},
): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (c: Check) => checks.push(c);

  // Node itself.
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
  if (major < 22 || (major === 22 && minor < 19)) {
    add({
      area: "node",
      level: "fail",
      message: `Node ${process.versions.node} is too old for clawos`,
      fix: "install Node 24 (OpenClaw needs ≥ 24.16 anyway)",
    });
  } else if (major < 24) {
    add({
      area: "node",
      level: "warn",
      message: `Node ${process.versions.node} runs clawos, but OpenClaw needs ≥ 24.16`,
      fix: "install Node 24",
    });
  } else add({ area: "node", level: "ok", message: `Node ${process.versions.node}` });

  // Config.
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig(home);
  } catch (error) {
    add({
      area: "config",
      level: "fail",
      message: describeError(error).split("\n")[0] ?? "invalid config",
      ...(error instanceof UserError && error.hint ? { fix: error.hint } : {}),
    });
    return checks;
  }
  if (!loaded.exists) {
    add({
      area: "config",
      level: "warn",
      message: `no ${displayPath(loaded.path, env)} yet`,
      fix: "clawos init",
    });
  } else
    add({
      area: "config",
      level: "ok",
      message: `${displayPath(loaded.path, env)}: ${loaded.config.nodes.length} node(s)`,
    });
  const machine = thisMachine(loaded.config, env);
  const nodes = loaded.config.nodes;

  // Token files: 0600, present.
  for (const node of nodes) {
    if (!("file" in node.token)) continue;
    const file = tokenFilePath(node.token.file, home, env);
    try {
      const mode = (await stat(file)).mode & 0o777;
      if (mode & 0o077) {
        let fixed = false;
        if (options.fix) {
          await chmod(file, 0o600);
          fixed = true;
        }
        add({
          area: "tokens",
          level: fixed ? "ok" : "fail",
          message: `${node.id}: token file ${displayPath(file, env)} has mode ${mode.toString(8)}; others can read it`,
          fix: `chmod 600 ${file}`,
          ...(fixed ? { fixed } : {}),
        });
      } else add({ area: "tokens", level: "ok", message: `${node.id}: token file mode 600` });
    } catch {
      add({
        area: "tokens",
        level: "fail",
        message: `${node.id}: token file ${displayPath(file, env)} is missing`,
        fix: "write the gateway token there (mode 600), or change the node's token source",
      });
    }
  }

  // Local profiles: chat completions on.
  for (const node of nodes.filter((n) => routeOf(n, machine) === "localhost")) {
    const file = join(openclawStateDir(node.profile, env), "openclaw.json");
    try {
      const config = JSON5.parse(await readFile(file, "utf8")) as {
        gateway?: { http?: { endpoints?: { chatCompletions?: { enabled?: unknown } } } };
      };
      if (config.gateway?.http?.endpoints?.chatCompletions?.enabled !== true) {
        add({
          area: "openclaw",
          level: "fail",
          message: `${node.id}: chat completions are off in ${displayPath(file, env)} (every task would get 404)`,
          fix: `openclaw ${node.profile ? `--profile ${node.profile} ` : ""}config set gateway.http.endpoints.chatCompletions.enabled true`,
        });
      }
    } catch {
      // A node whose profile lives elsewhere: the probe below says what matters.
    }
  }

  // Ports closer than 20 on this machine.
  const local = nodes
    .filter((n) => n.machine === machine && n.port !== null)
    .map((n) => ({ id: n.id, port: n.port! }));
  const overlaps = portOverlaps(local);
  for (const o of overlaps)
    add({
      area: "ports",
      level: "warn",
      message: o,
      fix: "move one gateway: openclaw --profile NAME config set gateway.port N (keep 20 apart), then clawos init (it follows the new port)",
    });
  if (local.length > 1 && overlaps.length === 0)
    add({ area: "ports", level: "ok", message: "gateways on this machine are at least 20 ports apart" });

  // Blackboard: writable, space, quarantine, stale leases.
  const bb = loaded.config.blackboard;
  if (bb.driver === "directory") {
    const dir = blackboardDir(loaded, env);
    // An unpredictable name, created new and never through a link: a file planted in tmp/ cannot redirect it.
    const probe = join(dir, "tmp", `.doctor-${process.pid}-${randomBytes(8).toString("hex")}`);
    try {
      const tmp = await lstat(join(dir, "tmp")).catch(() => undefined);
      if (tmp && !tmp.isDirectory())
        throw new Error("its tmp/ is not a directory (a link planted there is not followed)");
      const file = await open(
        probe,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0),
        0o600,
      );
      try {
        await file.writeFile("x");
      } finally {
        await file.close();
      }
      add({ area: "blackboard", level: "ok", message: `${displayPath(dir, env)} is writable` });
    } catch (error) {
      add({
        area: "blackboard",
        level: "fail",
        message: `cannot write in ${displayPath(dir, env)}: ${(error as Error).message}`,
        fix: "check the directory's owner and mode, or run clawos init",
      });
    } finally {
      await rm(probe, { force: true }).catch(() => {}); // a write cut short by a full disk leaves the file
    }
    try {
      const fs = await statfs(dir);
      const free = fs.bavail * fs.bsize;
      const mb = Math.round(free / 1024 / 1024);
      if (free < LOW_SPACE_BYTES) {
        add({
          area: "blackboard",
          level: free < 10 * 1024 * 1024 ? "fail" : "warn",
          message: `only ${mb} MB free on the blackboard's disk`,
          fix: "free some space there; tasks cannot be written on a full disk",
        });
      } else add({ area: "blackboard", level: "ok", message: `${mb} MB free` });
    } catch {
      // statfs unsupported: nothing to say
    }
    const quarantined = (await readdir(join(dir, "quarantine")).catch(() => [] as string[])).filter(
      (n) => !n.endsWith(".reason"),
    );
    if (quarantined.length) {
      add({
        area: "blackboard",
        level: "warn",
        message: `${quarantined.length} malformed file(s) were set aside in ${displayPath(join(dir, "quarantine"), env)}`,
        fix: "read the .reason file next to each; delete them when understood",
      });
    }
    const leaseMs = loaded.config.timing.leaseMs;
    let stale = 0;
    for (const node of await readdir(join(dir, "claimed")).catch(() => [] as string[])) {
      for (const name of await readdir(join(dir, "claimed", node)).catch(() => [] as string[])) {
        const s = await stat(join(dir, "claimed", node, name)).catch(() => undefined);
        if (s && Date.now() - s.mtimeMs > leaseMs * 2) stale++;
      }
    }
    if (stale) {
      add({
        area: "blackboard",
        level: "fail",
        message: `${stale} claimed task(s) have not renewed their lease for over ${Math.round((leaseMs * 2) / 1000)} s`,
        fix: "run the hub's worker (clawos node run --coordinator): it hands them back to be run again",
      });
    }
  }

  // Nodes, then blackboard records: one open federation for both. Not without a federation.json:
  // opening would create a blackboard, and a check should change nothing.
  const opened: { core: FederationCore } | { error: unknown } = loaded.exists
    ? await FederationCore.open(home, { env }).then(
        (core) => ({ core }),
        (error: unknown) => ({ error }),
      )
    : { error: new UserError("no federation.json yet", { hint: "clawos init" }) };
  try {
    // Nodes: reachable, token, endpoint.
    if (nodes.length) {
      try {
        if ("error" in opened) throw opened.error;
        const { core } = opened;
        const { views } = await core.nodeViews({ probe: "always" });
        for (const v of views) {
          if (v.status === "online")
            add({ area: "nodes", level: "ok", message: `${v.id}: online (${v.reason})` });
          else if (v.status === "planned") add({ area: "nodes", level: "ok", message: `${v.id}: planned` });
          else {
            const probe = core.lastProbe(v.id);
            add({
              area: "nodes",
              level: v.status === "misconfigured" || v.status === "unreachable" ? "fail" : "warn",
              message: `${v.id}: ${v.status} — ${v.reason}`,
              fix:
                probe?.hint ??
                (v.transport === "localhost"
                  ? `start it: openclaw ${v.profile ? `--profile ${v.profile} ` : ""}gateway run`
                  : `run its worker there: clawos node run --node ${v.id}`),
            });
          }
        }
      } catch (error) {
        add({
          area: "nodes",
          level: "fail",
          message: describeError(error).split("\n")[0] ?? "cannot check nodes",
        });
      }
    }

    // Blackboard records that readers skip (what `clawos status` lists with "!"), named one by one;
    // the quarantine count is reported above. If the board did not open, the checks above said why.
    if ("core" in opened) {
      const none = () => ({ problems: [] as string[] });
      const [listing, statuses] = await Promise.all([
        opened.core.blackboard.list({ finishedLimit: 50 }).catch(none),
        opened.core.blackboard.readNodeStatuses().catch(none),
      ]);
      const problems = [...listing.problems, ...statuses.problems];
      for (const problem of problems.filter((p) => !/^\d+ malformed file\(s\) set aside/.test(p)))
        add({
          area: "blackboard",
          level: "warn",
          message: problem,
          fix: fixForRecordProblem(problem, opened.core.blackboard.location),
        });
    }
  } finally {
    if ("core" in opened) await opened.core.close();
  }

  // SSH: host keys known, identity usable.
  for (const node of nodes.filter((n) => n.ssh)) {
    const ssh = node.ssh!;
    const target = parseSshTarget(ssh.target);
    const knownHosts = expandTilde(ssh.knownHosts ?? "~/.ssh/known_hosts", env);
    const types = knownKeyTypes(await loadKnownHosts(knownHosts), target.host, target.port);
    if (types.length === 0) {
      add({
        area: "ssh",
        level: "fail",
        message: `${node.id}: no host key for ${target.host}${target.port === 22 ? "" : `:${target.port}`} in ${displayPath(knownHosts, env)}; the P0 route will refuse it`,
        fix: `check the fingerprint, then: ssh-keyscan ${target.port === 22 ? "" : `-p ${target.port} `}${target.host} >> ${knownHosts}`,
      });
    } else add({ area: "ssh", level: "ok", message: `${node.id}: host key known (${types.join(", ")})` });
    if (ssh.identityFile) {
      const file = expandTilde(ssh.identityFile, env);
      const s = await stat(file).catch(() => undefined);
      if (!s)
        add({
          area: "ssh",
          level: "fail",
          message: `${node.id}: identity file ${displayPath(file, env)} is missing`,
          fix: "point ssh.identityFile at your private key",
        });
      else if (s.mode & 0o077)
        add({
          area: "ssh",
          level: "fail",
          message: `${node.id}: identity file ${displayPath(file, env)} is readable by others`,
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
          message: `${node.id}: no ssh-agent (SSH_AUTH_SOCK) and no key in ~/.ssh`,
          fix: "start ssh-agent and ssh-add your key, or set ssh.identityFile",
        });
      }
    }
  }
  return checks;
}

/** What to do about a record readers skip, by the kind of problem the blackboard reported. */
function fixForRecordProblem(problem: string, dir: string): string {
  if (/cannot be read \(no permission\)/.test(problem)) {
    const file = join(dir, problem.slice(0, problem.indexOf(": ")));
    const arg = /^[\w./~+-]+$/.test(file) ? file : `'${file.replaceAll("'", `'\\''`)}'`;
    return `make it readable to the worker's user (chmod 644 ${arg}, as its owner), or let the hub's worker (clawos node run) move it to quarantine/`;
  }
  if (
    /symbolic link|named pipe|socket|device file|a directory|not a regular file|where a directory should be/.test(
      problem,
    )
  )
    return `remove it from ${dir}: clawos never follows or moves what is not a regular file`;
  return "the hub's worker (clawos node run) moves malformed files to quarantine/ with a .reason";
}
