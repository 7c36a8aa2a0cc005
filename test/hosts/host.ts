/**
 * One lab host: a network namespace with its own hostname (a UTS namespace per process), HOME
 * and CLAWOS_HOME under the lab's temp dir, and a `clawos` command on its PATH, so the steps
 * read as the README's commands. Every process is started through
 * `ip netns exec NS unshare --uts sh -c 'hostname NAME && exec …'`; each of those execs in
 * turn, so the pid we hold is the program's own.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { type ProcessResult, runProcess, watchOutput } from "../testkit/process.js";
import { type HostNet, type LabNetwork, pidsIn } from "./netns.js";

/** How long a stopped process's output may stay open after it exited (a child of it holding the pipe). */
const STDIO_AFTER_EXIT_MS = 5_000;

export const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const CLAWOS_BIN = join(REPO, "dist", "clawos", "bin.js");

export interface Proc {
  child: ChildProcess;
  label: string;
  output(): string;
  waitFor(test: string | RegExp, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. */
  stop(graceMs?: number): Promise<void>;
}

export class Host {
  readonly home: string;
  readonly clawosHome: string;
  readonly bin: string;
  readonly logs: string;
  asleep = false;
  private procs: Proc[] = [];

  constructor(
    readonly net: HostNet,
    private readonly network: LabNetwork,
    root: string,
  ) {
    this.home = join(root, net.name, "home");
    this.clawosHome = join(this.home, ".openclaw", "clawos");
    this.bin = join(root, net.name, "bin");
    this.logs = join(root, net.name, "logs");
  }

  get name(): string {
    return this.net.name;
  }
  get address(): string {
    return this.net.address;
  }

  async prepare(): Promise<void> {
    await mkdir(this.clawosHome, { recursive: true });
    await mkdir(this.bin, { recursive: true });
    await mkdir(this.logs, { recursive: true });
    const shim = join(this.bin, "clawos");
    await writeFile(
      shim,
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLAWOS_BIN)} "$@"\n`,
    );
    await chmod(shim, 0o755);
  }

  get env(): NodeJS.ProcessEnv {
    return {
      PATH: `${this.bin}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
      HOME: this.home,
      CLAWOS_HOME: this.clawosHome,
      NO_COLOR: "1",
      LANG: "C.UTF-8",
    };
  }

  /** The argv that runs `command` inside this host; `skew` (e.g. "+5m") runs it under faketime. */
  wrap(command: readonly string[], skew?: string): string[] {
    const clock = skew ? ["faketime", "-f", skew] : [];
    return [
      "ip",
      "netns",
      "exec",
      this.net.ns,
      "unshare",
      "--uts",
      "sh",
      "-c",
      'hostname "$0" && exec "$@"',
      this.name,
      ...clock,
      ...command,
    ];
  }

  private fullEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { ...this.env, FAKETIME_DONT_FAKE_MONOTONIC: "1", ...extra };
  }

  /** Runs a command to completion inside the host. */
  async run(
    command: readonly string[],
    options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
  ): Promise<ProcessResult> {
    const [cmd, ...args] = this.wrap(command);
    return runProcess(cmd!, args, {
      env: this.fullEnv(options.env),
      input: options.input ?? "",
      timeoutMs: options.timeoutMs ?? 180_000,
      name: `${this.name}: ${command.join(" ")}`,
      cwd: this.home,
    });
  }

  /** `clawos ARGS` on this host; throws with its output unless it exits 0. */
  async clawos(args: readonly string[], options: { input?: string; timeoutMs?: number } = {}) {
    const r = await this.run(["clawos", ...args], options);
    if (r.code !== 0) {
      throw new Error(`${this.name}: clawos ${args.join(" ")} exited ${r.code}\n${r.stdout}\n${r.stderr}`);
    }
    return r;
  }

  async clawosJson<T>(args: readonly string[]): Promise<T> {
    return JSON.parse((await this.clawos([...args, "--json"])).stdout) as T;
  }

  /**
   * Starts a long-running command inside the host, in its own process group (faketime forks
   * the program it runs, so signals go to the group); its output also goes to logs/<label>.log.
   */
  start(
    label: string,
    command: readonly string[],
    options: { env?: NodeJS.ProcessEnv; skew?: string } = {},
  ): Proc {
    const [cmd, ...args] = this.wrap(command, options.skew);
    const child = spawn(cmd!, args, {
      env: this.fullEnv(options.env),
      cwd: this.home,
      stdio: "pipe",
      detached: true,
    });
    const log: WriteStream = createWriteStream(join(this.logs, `${label}.log`), { flags: "a" });
    const watch = watchOutput(child, (d) => log.write(d));
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    // Its output closes when it ends, unless something it started still holds the pipe.
    const ended = new Promise<void>((resolve) => child.once("exit", () => resolve())).then(() =>
      Promise.race([exited, sleep(STDIO_AFTER_EXIT_MS)]),
    );
    child.once("close", () => log.end());
    const proc: Proc = {
      child,
      label,
      output: watch.output,
      waitFor: (test, timeoutMs = 60_000) =>
        Promise.race([
          watch.waitFor(
            test,
            timeoutMs,
            (out) => `${this.name} ${label}: never saw ${String(test)}; it said:\n${out.slice(-3000)}`,
          ),
          exited.then(() => {
            // It may have printed what we wait for just before it ended.
            const out = watch.output();
            if (typeof test === "string" ? !out.includes(test) : !test.test(out))
              throw new Error(`${this.name} ${label} exited before ${String(test)}:\n${out.slice(-3000)}`);
          }),
        ]),
      stop: async (graceMs = 15_000) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        signalGroup(child.pid!, "SIGCONT");
        signalGroup(child.pid!, "SIGTERM");
        const timer = setTimeout(() => signalGroup(child.pid!, "SIGKILL"), graceMs);
        await ended;
        clearTimeout(timer);
        this.procs = this.procs.filter((p) => p !== proc);
      },
    };
    this.procs.push(proc);
    return proc;
  }

  /** Sleep: the link goes down and every process of the host is stopped. */
  sleep(): void {
    this.network.setLink(this.net, false);
    for (const pid of pidsIn(this.net.ns)) signal(pid, "SIGSTOP");
    this.asleep = true;
  }

  /** Wake: processes continue, then the link comes back. */
  wake(): void {
    for (const pid of pidsIn(this.net.ns)) signal(pid, "SIGCONT");
    this.network.setLink(this.net, true);
    this.asleep = false;
  }

  setLink(up: boolean): void {
    this.network.setLink(this.net, up);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.procs].reverse().map((p) => p.stop(5000)));
  }
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  signal(-pid, sig);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // exited meanwhile
  }
}
