/**
 * Soak of `clawos serve` under attack (issue 12), with a planted-files storm on the blackboard
 * while real workers run real tasks:
 *
 *   node dist/bench/suites/serve-soak.js [--minutes 10] [--normal 5] [--idle 20] [--huge 10]
 *     [--garbage 15] [--max-sessions 60] [--settle 3m] [--user nobody|none] [--out r.json] [--keep]
 *
 * All on 127.0.0.1: one stub gateway per node (w1, w2), a worker per node
 * (`clawos node run --node wN --no-coordinator`), the hub coordinator, one dispatcher
 * (`clawos dispatch … --json` in a loop), and `clawos serve` facing 50 clients by default:
 * normal users (the real `ssh` in a pty, pressing ? now and then), idle pre-auth sockets,
 * huge pty/window sizes, garbage before and after login (bench/suites/serve-soak/clients.ts).
 * Meanwhile a storm plants symlinks to a decoy directory, FIFOs, mode-000, oversized,
 * hostile and future-dated files in the blackboard (bench/suites/serve-soak/plants.ts).
 *
 * The clawos processes run as --user (default nobody when run as root), so that a mode-000
 * file is as unreadable to them as it is to a real user. A crashed server is restarted on
 * the same port (and counted) so the rest of the run still measures something.
 *
 * PASS when: the server never exited, every normal user kept its session, got frames and
 * had every key answered, no planted escape sequence reached a user's terminal, 0 tasks lost
 * or duplicated (bench/suites/soak/audit.ts), no worker crashed, and the decoy is byte-identical.
 * Exit 1 otherwise.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { chown, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, keygen } from "../../test/testkit/sshd.js";
import { BIN, benchArgs, machineInfo, round, STUB_MAIN, sleep, table } from "../lib.js";
import {
  type ClientStats,
  garbagePreAuth,
  garbageShell,
  hugeSizes,
  idlePreAuth,
  type NormalUser,
  normalUser,
  type Target,
} from "./serve-soak/clients.js";
import {
  compareFingerprints,
  fateOf,
  fingerprint,
  leakedReasons,
  makeDecoy,
  type Owner,
  PLANT_KINDS,
  PLANT_PREFIX,
  type Plant,
  plant,
} from "./serve-soak/plants.js";
import { auditBlackboard, type DispatchedTask, type ListedTask } from "./soak/audit.js";

const opts = benchArgs({
  minutes: { type: "string", default: "10" },
  normal: { type: "string", default: "5" },
  idle: { type: "string", default: "20" },
  huge: { type: "string", default: "10" },
  garbage: { type: "string", default: "15" },
  "max-sessions": { type: "string", default: "60" },
  settle: { type: "string", default: "180" },
  "plant-every": { type: "string", default: "3" },
  user: { type: "string", default: process.getuid?.() === 0 ? "nobody" : "none" },
  out: { type: "string" },
  keep: { type: "boolean", default: false },
});
const DURATION_MS = Number(opts.minutes) * 60_000;
const SETTLE_MS = Number(opts.settle) * 1000;
const NODES = ["w1", "w2"] as const;
const TIMING = { leaseMs: 8000, heartbeatMs: 1000, rescanMs: 1000, requestTimeoutMs: 60_000, maxAttempts: 5 };
const T0 = Date.now();
const elapsedS = () => round((Date.now() - T0) / 1000, 1);
const say = (line: string) =>
  process.stderr.write(`[serve-soak ${elapsedS().toFixed(1).padStart(6)} s] ${line}\n`);

function userIds(name: string): Owner | undefined {
  if (name === "none") return undefined;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no user ${name} in /etc/passwd (use --user none)`);
  const [, , uid, gid] = line.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

/** chown -R, without following links (the tree holds none yet). */
async function chownTree(path: string, owner: Owner): Promise<void> {
  await chown(path, owner.uid, owner.gid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(child, owner);
    else if (!entry.isSymbolicLink()) await chown(child, owner.uid, owner.gid);
  }
}

function procStatus(pid: number): { rssMiB: number; fds: number } | undefined {
  try {
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    return { rssMiB: round(rss / 1024, 1), fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return undefined;
  }
}

interface Proc {
  name: string;
  child?: ChildProcess;
  exits: { atS: number; code: number | null; signal: string | null; tail: string }[];
  tail: string;
  expected: boolean;
  /** Starts (or restarts) it. */
  start?: () => Promise<string>;
}

async function main(): Promise<number> {
  const root = await mkdtemp(join(tmpdir(), "clawos-serve-soak-"));
  const owner = userIds(opts.user);
  const home = join(root, "home");
  const blackboard = join(root, "blackboard");
  const decoy = join(root, "outside");
  const sshHome = join(root, "ssh-client");
  await mkdir(home, { recursive: true });
  await mkdir(sshHome, { recursive: true });
  if (owner) for (const dir of [root, home]) await chown(dir, owner.uid, owner.gid);
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: home, CLAWOS_MACHINE: "hub", NO_COLOR: "1" };
  const procs: Proc[] = [];
  const stop = new AbortController();

  const spawnAs = (args: string[], extraEnv: NodeJS.ProcessEnv = {}) =>
    spawn(process.execPath, args, {
      env: { ...env, ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
      ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    });
  const cli = (args: string[], timeoutMs = 60_000) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawnAs([BIN, ...args]);
      let stdout = "";
      let stderr = "";
      child.stdout!.on("data", (d: Buffer) => {
        stdout += d;
      });
      child.stderr!.on("data", (d: Buffer) => {
        stderr += d;
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.once("close", (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  /** A long-running process; `ready` is a line it prints once up. */
  const startProc = (p: Proc, args: string[], ready: RegExp, extraEnv: NodeJS.ProcessEnv = {}) =>
    new Promise<string>((resolve, reject) => {
      const child =
        args[0] === STUB_MAIN
          ? spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] })
          : spawnAs(args, extraEnv);
      p.child = child;
      p.expected = false;
      const timer = setTimeout(
        () => reject(new Error(`${p.name} not ready in 60 s: ${p.tail.slice(-300)}`)),
        60_000,
      );
      const take = (d: Buffer) => {
        p.tail = (p.tail + d.toString()).slice(-4000);
        const m = ready.exec(p.tail);
        if (m) {
          clearTimeout(timer);
          resolve(m[0]);
        }
      };
      child.stdout!.on("data", take);
      child.stderr!.on("data", take);
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        if (!p.expected) {
          p.exits.push({ atS: elapsedS(), code, signal, tail: p.tail.slice(-1500) });
          say(`!! ${p.name} exited (code ${code}, signal ${signal})`);
        }
        reject(new Error(`${p.name} exited: ${p.tail.trim().split("\n").slice(-3).join(" | ")}`));
      });
    });
  const proc = (name: string): Proc => {
    const p: Proc = { name, exits: [], tail: "", expected: false };
    procs.push(p);
    return p;
  };
  const stopProc = async (p: Proc) => {
    p.expected = true;
    const child = p.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    await exited;
    clearTimeout(timer);
  };
  const onSignal = () => {
    stop.abort();
    for (const p of procs) if (p.child && p.child.exitCode === null) p.child.kill("SIGKILL");
    void rm(root, { recursive: true, force: true }).finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  // A bug in the harness itself must not leave the federation running.
  process.once("uncaughtException", (error) => {
    say(`harness error: ${error.stack ?? String(error)}`);
    onSignal();
  });

  try {
    // ── the federation
    say(`work dir ${root}; clawos processes run as ${opts.user}`);
    const init = await cli(["init"]);
    if (init.code !== 0) throw new Error(`clawos init failed: ${init.stderr.trim()}`);
    const workers: Proc[] = [];
    for (const [i, node] of NODES.entries()) {
      const token = `serve-soak-${node}`;
      const gw = proc(`gateway-${node}`);
      const line = await startProc(gw, [STUB_MAIN, "--port", "0", "--token", token], /\{"port":\d+\}/);
      const port = (JSON.parse(line) as { port: number }).port;
      const add = await cli([
        "nodes",
        "add",
        node,
        "--machine",
        `box${i + 1}`,
        "--port",
        String(port),
        "--token-env",
        `${node.toUpperCase()}_TOKEN`,
      ]);
      if (add.code !== 0) throw new Error(`nodes add ${node}: ${add.stderr}`);
      const w = proc(`worker-${node}`);
      w.start = () =>
        startProc(
          w,
          [BIN, "node", "run", "--node", node, "--no-coordinator", "--grace", "3"],
          /worker started on /,
          {
            CLAWOS_MACHINE: `box${i + 1}`,
            [`${node.toUpperCase()}_TOKEN`]: token,
          },
        );
      workers.push(w);
    }
    const configPath = join(home, ".openclaw", "clawos", "federation.json");
    const config = JSON.parse(await readFile(configPath, "utf8")) as Record<string, unknown>;
    config.timing = TIMING;
    config.blackboard = { driver: "directory", path: blackboard, coordinator: "hub" };
    await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`);
    await makeDecoy(decoy, owner);
    const decoyBefore = await fingerprint(decoy);
    const coordinator = proc("coordinator");
    await startProc(coordinator, [BIN, "node", "run", "--coordinator", "--grace", "3"], /worker started on /);
    for (const w of workers) await w.start!();
    say("2 gateways, 2 workers and the coordinator are up");

    // ── the server
    const keyPath = join(sshHome, "id_ed25519");
    await keygen(keyPath);
    const authorizedKeys = join(root, "authorized_keys");
    await writeFile(authorizedKeys, await readFile(`${keyPath}.pub`));
    if (owner) await chownTree(home, owner);
    if (owner) await chown(authorizedKeys, owner.uid, owner.gid);
    const server = proc("serve");
    const port = await freePort();
    const startServer = async () => {
      await startProc(
        server,
        [
          BIN,
          "serve",
          "--ssh",
          `127.0.0.1:${port}`,
          "--authorized-keys",
          authorizedKeys,
          "--max-sessions",
          opts["max-sessions"],
        ],
        /listening on 127\.0\.0\.1:\d+/,
      );
    };
    await startServer();
    const hostPub = (
      await readFile(join(home, ".openclaw", "clawos", "serve", "ssh_host_ed25519_key.pub"), "utf8")
    )
      .trim()
      .split(/\s+/);
    const knownHosts = join(sshHome, "known_hosts");
    await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostPub[0]} ${hostPub[1]}\n`);
    const target: Target = { port, privateKey: await readFile(keyPath), keyPath, knownHosts, home: sshHome };
    say(`clawos serve listening on 127.0.0.1:${port}`);

    // Keep the server up: a crash is counted (a failure) and it is started again on the same port.
    let serverRestarts = 0;
    const serverWatch = (async () => {
      while (!stop.signal.aborted) {
        await sleep(1_000);
        const c = server.child;
        if (!stop.signal.aborted && c && (c.exitCode !== null || c.signalCode !== null)) {
          serverRestarts++;
          await startServer().catch((error: unknown) => say(`!! could not restart serve: ${String(error)}`));
        }
      }
    })();
    const samples: { atS: number; rssMiB: number; fds: number; load: number }[] = [];
    const sampler = setInterval(() => {
      const pid = server.child?.pid;
      const st = pid ? procStatus(pid) : undefined;
      if (st) samples.push({ atS: elapsedS(), ...st, load: round(loadavg()[0]!, 2) });
    }, 5_000);

    // ── the clients: hostile ones first, then the normal users must still get in
    const hostile: Promise<ClientStats>[] = [];
    const n = (k: string) => Number(opts[k as keyof typeof opts]);
    for (let i = 0; i < n("idle"); i++) hostile.push(idlePreAuth(target, stop.signal, i % 2 === 1));
    for (let i = 0; i < n("huge"); i++) hostile.push(hugeSizes(target, i, stop.signal));
    const garbageShells = Math.ceil(n("garbage") / 2);
    for (let i = 0; i < n("garbage"); i++)
      hostile.push(
        i < garbageShells ? garbageShell(target, i, stop.signal) : garbagePreAuth(target, stop.signal),
      );
    await sleep(3_000);
    const users = Array.from({ length: n("normal") }, (_, i) => normalUser(target, `user${i}`, stop.signal));
    say(`${users.length + hostile.length} clients started`);

    // ── the dispatcher
    const dispatched: DispatchedTask[] = [];
    let refused = 0;
    let seq = 0;
    const dispatcher = (async () => {
      while (!stop.signal.aborted) {
        const text = `serve soak #${++seq}`;
        const to = seq % 3 === 0 ? "any" : NODES[seq % 2]!;
        const r = await cli(["dispatch", text, "--to", to, "--priority", `P${seq % 4}`, "--json"]);
        try {
          const view = JSON.parse(r.stdout) as { id: string; node?: string };
          dispatched.push({
            id: view.id,
            target: to,
            priority: `P${seq % 4}`,
            text,
            routedTo: view.node ?? "?",
            dispatchedAtMs: Date.now(),
          });
        } catch {
          refused++;
        }
        await sleep(500 + Math.random() * 500);
      }
    })();

    // ── the storm: every kind early, then at random
    const plants: Plant[] = [];
    const plantErrors: string[] = [];
    const storm = (async () => {
      let k = 0;
      while (!stop.signal.aborted) {
        const kind =
          k < PLANT_KINDS.length
            ? PLANT_KINDS[k]!
            : PLANT_KINDS[Math.floor(Math.random() * PLANT_KINDS.length)]!;
        k++;
        try {
          plants.push({ kind, path: await plant(blackboard, decoy, kind, k, NODES, owner), atS: elapsedS() });
        } catch (error) {
          plantErrors.push(`${kind}: ${String(error)}`);
        }
        await sleep(Number(opts["plant-every"]) * 1000);
      }
    })();

    const progress = setInterval(() => {
      const last = samples.at(-1);
      say(
        `${dispatched.length} dispatched, ${plants.length} planted, serve RSS ${last?.rssMiB} MiB fds ${last?.fds}, restarts ${serverRestarts}`,
      );
    }, 20_000);
    await sleep(DURATION_MS);
    say("time is up: stopping the clients, the dispatcher and the storm");
    stop.abort();
    clearInterval(progress);
    const userStats: NormalUser[] = await Promise.all(users);
    const hostileStats = await Promise.all(hostile);
    await Promise.all([dispatcher, storm, serverWatch]);
    clearInterval(sampler);
    const serverAliveAtEnd = server.child?.exitCode === null && server.child.signalCode === null;

    // ── settle: every dispatched task final
    let listed: ListedTask[] | undefined;
    const settleStart = Date.now();
    let settled = false;
    while (Date.now() - settleStart < SETTLE_MS) {
      const r = await cli(["tasks", "list", "--json", "--limit", "1000000"], 120_000);
      try {
        listed = (JSON.parse(r.stdout) as { tasks: ListedTask[] }).tasks;
        const byId = new Map(listed.map((t) => [t.id, t]));
        const open = dispatched.filter(
          (t) => !["completed", "failed", "cancelled"].includes(byId.get(t.id)?.state ?? ""),
        ).length;
        if (open === 0) {
          settled = true;
          break;
        }
      } catch {
        say(`tasks list failed: ${r.stderr.trim().split("\n")[0]}`);
      }
      await sleep(3_000);
    }
    say(settled ? `settled in ${round((Date.now() - settleStart) / 1000, 1)} s` : "NOT settled");
    for (const p of procs) await stopProc(p);

    // ── verdict
    const audit = await auditBlackboard(blackboard, dispatched, listed, {
      junkPrefix: PLANT_PREFIX,
      expectedReply: (text) => `echo: ${text}`,
    });
    const decoyChanges = compareFingerprints(decoyBefore, await fingerprint(decoy));
    const fates: Record<string, Record<string, number>> = {};
    for (const p of plants) {
      const fate = await fateOf(blackboard, p);
      fates[p.kind] ??= {};
      fates[p.kind]![fate] = (fates[p.kind]![fate] ?? 0) + 1;
    }
    const leaks = await leakedReasons(blackboard, [
      "decoy key material",
      "the user's own notes",
      "an old file",
    ]);
    const crashes = procs
      .filter((p) => p !== server)
      .flatMap((p) => p.exits.map((e) => ({ name: p.name, ...e })));

    const failures: string[] = [];
    if (server.exits.length)
      failures.push(`clawos serve exited ${server.exits.length} time(s) (restarted ${serverRestarts})`);
    const drops = userStats.reduce((a, u) => a + u.drops.length, 0);
    const lockouts = userStats.reduce((a, u) => a + u.lockouts, 0);
    const probes = userStats.reduce((a, u) => a + u.keyProbes, 0);
    const probesFailed = userStats.reduce((a, u) => a + u.keyProbesFailed.length, 0);
    const escapes = userStats.reduce((a, u) => a + u.hostileEscapes, 0);
    const longestSilence = Math.max(0, ...userStats.map((u) => u.longestSilenceS));
    if (drops) failures.push(`${drops} normal-user session(s) dropped`);
    if (lockouts) failures.push(`${lockouts} normal-user login(s) failed (locked out)`);
    if (probesFailed) failures.push(`${probesFailed} of ${probes} keypresses had no effect`);
    if (escapes) failures.push(`${escapes} planted escape sequence(s) reached a user's terminal`);
    if (audit.lost) failures.push(`${audit.lost} task(s) lost`);
    if (audit.duplicated) failures.push(`${audit.duplicated} task(s) duplicated`);
    if (audit.wrongReplies.length)
      failures.push(`${audit.wrongReplies.length} task(s) with another task's reply`);
    if (crashes.length) failures.push(`${crashes.length} worker/coordinator/gateway exit(s)`);
    if (decoyChanges.length)
      failures.push(`the decoy outside the blackboard changed: ${decoyChanges.length} entr(ies)`);
    if (leaks.length) failures.push(`${leaks.length} file(s) in quarantine/ carry the decoy's contents`);
    if (!serverAliveAtEnd && !server.exits.length) failures.push("clawos serve was not running at the end");

    const report = {
      verdict: failures.length ? "FAIL" : "PASS",
      failures,
      machine: machineInfo(),
      command: `node ${process.argv.slice(1).join(" ")}`,
      config: {
        minutes: Number(opts.minutes),
        maxSessions: Number(opts["max-sessions"]),
        user: opts.user,
        timing: TIMING,
      },
      clients: Object.fromEntries(
        Object.entries(
          [...userStats, ...hostileStats].reduce<
            Record<
              string,
              { clients: number; connects: number; closedByServer: number; errors: Record<string, number> }
            >
          >((acc, s) => {
            acc[s.kind] ??= { clients: 0, connects: 0, closedByServer: 0, errors: {} };
            const a = acc[s.kind]!;
            a.clients++;
            a.connects += s.connects;
            a.closedByServer += s.closedByServer;
            for (const [k, v] of Object.entries(s.errors)) a.errors[k] = (a.errors[k] ?? 0) + v;
            return acc;
          }, {}),
        ),
      ),
      normalUsers: {
        sessionsStayedUp: userStats.filter((u) => !u.drops.length && !u.lockouts).length,
        of: userStats.length,
        drops,
        lockouts,
        keyProbes: probes,
        keyProbesFailed: probesFailed,
        longestSilenceS: longestSilence,
        hostileEscapes: escapes,
        dropDetails: userStats.flatMap((u) => u.drops).slice(0, 10),
        probeFailures: userStats.flatMap((u) => u.keyProbesFailed).slice(0, 5),
      },
      server: {
        exits: server.exits.map((e) => ({
          atS: e.atS,
          code: e.code,
          signal: e.signal,
          // V8's "FATAL ERROR: … heap out of memory" sits above the native stack in the tail.
          why: e.tail.split("\n").find((l) => /FATAL|Error/.test(l)) ?? e.tail.split("\n").at(-2),
        })),
        restarts: serverRestarts,
        aliveAtEnd: serverAliveAtEnd,
        samples,
      },
      tasks: {
        dispatched: audit.dispatched,
        refused,
        completed: audit.completed,
        failed: audit.failedWithReason + audit.failedWithoutReason,
        cancelled: audit.cancelled,
        lost: audit.lost,
        duplicated: audit.duplicated,
        orphans: audit.orphans.length,
        settled,
        lostTasks: audit.lostTasks.slice(0, 10),
        duplicatedTasks: audit.duplicatedTasks.slice(0, 10),
        failureReasons: audit.failureReasons,
      },
      plants: {
        total: plants.length,
        errors: plantErrors.slice(0, 10),
        fates,
        quarantineLeaks: leaks.slice(0, 10),
      },
      decoy: { identical: decoyChanges.length === 0, changes: decoyChanges.slice(0, 20) },
      processExits: crashes.map((c) => ({
        name: c.name,
        atS: c.atS,
        code: c.code,
        signal: c.signal,
        tail: c.tail.split("\n").slice(-6).join("\n"),
      })),
    };
    printSummary(report);
    if (opts.out) await writeFile(opts.out, `${JSON.stringify(report, null, 2)}\n`);
    return failures.length ? 1 : 0;
  } finally {
    stop.abort();
    for (const p of procs)
      if (p.child && p.child.exitCode === null && p.child.signalCode === null) p.child.kill("SIGKILL");
    if (opts.keep) say(`kept ${root}`);
    else await rm(root, { recursive: true, force: true });
  }
}

function printSummary(report: {
  verdict: string;
  failures: string[];
  server: { samples: { atS: number; rssMiB: number; fds: number }[]; restarts: number };
  tasks: Record<string, unknown>;
  normalUsers: Record<string, unknown>;
  clients: Record<string, { clients: number; connects: number; closedByServer: number }>;
  plants: { fates: Record<string, Record<string, number>> };
  decoy: { identical: boolean };
}): void {
  const s = report.server.samples;
  const at = (q: number) => s[Math.min(s.length - 1, Math.round(q * (s.length - 1)))];
  const fmt = (x?: { rssMiB: number; fds: number; atS: number }) =>
    x ? `${x.rssMiB} MiB / ${x.fds} fds @${x.atS}s` : "-";
  process.stdout.write(
    `\n${table([
      ["client kind", "clients", "connects", "closed by server"],
      ...Object.entries(report.clients).map(([k, v]) => [k, v.clients, v.connects, v.closedByServer]),
    ])}\n\n${table([
      ["planted kind", "what became of it"],
      ...Object.entries(report.plants.fates).map(([k, v]) => [
        k,
        Object.entries(v)
          .map(([f, c]) => `${c}× ${f}`)
          .join(", "),
      ]),
    ])}\n\n${table([
      ["serve soak", "value"],
      ["server RSS / fds: start, middle, end", `${fmt(at(0))}; ${fmt(at(0.5))}; ${fmt(at(1))}`],
      ["server restarts after a crash", report.server.restarts],
      ["normal sessions stayed up", `${report.normalUsers.sessionsStayedUp} of ${report.normalUsers.of}`],
      [
        "keypresses answered",
        `${Number(report.normalUsers.keyProbes) - Number(report.normalUsers.keyProbesFailed)} of ${report.normalUsers.keyProbes}`,
      ],
      ["longest silence on a normal session (s)", Number(report.normalUsers.longestSilenceS)],
      [
        "tasks dispatched / completed / failed",
        `${report.tasks.dispatched} / ${report.tasks.completed} / ${report.tasks.failed}`,
      ],
      ["tasks LOST / DUPLICATED", `${report.tasks.lost} / ${report.tasks.duplicated}`],
      ["decoy byte-identical", String(report.decoy.identical)],
    ])}\n\n${JSON.stringify(report, null, 2)}\n\n`,
  );
  for (const f of report.failures) process.stdout.write(`FAIL: ${f}\n`);
  process.stdout.write(
    `\nserve soak: ${report.verdict}${report.failures.length ? ` (${report.failures.length} failure(s))` : ""}\n`,
  );
}

process.exitCode = await main();
