/**
 * The real OpenClaw in the lab, offline, as `npm run test:openclaw` runs it: the pinned
 * release installed once in the cache (ensureOpenClaw; the namespaces share the filesystem),
 * an `openclaw` command on a host's PATH that runs it with a Node it accepts, and the fake
 * model provider (test/openclaw/fake-provider.mjs) on the host's own 127.0.0.1. Every host that
 * runs the node gets the provider on the same port, so the node's model config works wherever
 * it is migrated.
 */
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Host } from "./host.js";
import { pidsIn } from "./netns.js";

const SUPPORT = new URL("../../../test/openclaw/openclaw-support.mjs", import.meta.url).href;
const PROVIDER_MAIN = new URL("../../../test/openclaw/fake-provider.mjs", import.meta.url);

interface Install {
  dir: string;
  entry: string;
  nodeBin: string;
  installed: boolean;
  seconds: number;
}

interface Support {
  OPENCLAW_VERSION: string;
  ensureOpenClaw(options: { log: (line: string) => void }): Install;
  removeStateLocks(stateDir: string): void;
}

interface FakeProvider {
  FAKE_MODEL_ID: string;
  fakeReplyFor(text: string): string;
  lastUserText(messages: unknown): string;
}

const support = (await import(SUPPORT)) as Support;
const provider = (await import(PROVIDER_MAIN.href)) as FakeProvider;

/** The fake provider's port inside each namespace (clear of the gateways' port blocks). */
export const MODEL_PORT = 19700;
export const MODEL_ID = provider.FAKE_MODEL_ID;
export const MODEL_BASE_URL = `http://127.0.0.1:${MODEL_PORT}/v1`;
export const OPENCLAW_VERSION = support.OPENCLAW_VERSION;

/** The fake model's sentence for a prompt (it names the prompt's last word). */
export function modelSays(prompt: string): string {
  return provider.fakeReplyFor(prompt);
}

/**
 * Keeps a real gateway off the network and its log out of the shared /tmp/openclaw: the
 * `incubate --set` values (the config travels with a migration, so the log path is the lab's).
 */
export function offlineSettings(logFile: string): string[] {
  return [
    "discovery.mdns.mode=off",
    "update.checkOnStart=false",
    "models.catalogRefresh.enabled=false",
    `logging.file=${logFile}`,
  ].flatMap((kv) => ["--set", kv]);
}

export class LabOpenClaw {
  private constructor(readonly install: Install) {}

  /** Installs the pinned OpenClaw into the cache if it is not there yet (minutes, once). */
  static ensure(log: (line: string) => void): LabOpenClaw {
    return new LabOpenClaw(support.ensureOpenClaw({ log: (line) => log(line.replace(/^# /, "")) }));
  }

  /** `openclaw` on the host's PATH, as after `npm install -g openclaw`. */
  async installShim(host: Host): Promise<void> {
    const { nodeBin, entry } = this.install;
    await writeFile(
      join(host.bin, "openclaw"),
      `#!/bin/sh\nexec ${JSON.stringify(nodeBin)} ${JSON.stringify(entry)} "$@"\n`,
      { mode: 0o755 },
    );
  }

  /** The fake model provider on the host's 127.0.0.1:MODEL_PORT. */
  async startProvider(host: Host): Promise<void> {
    const proc = host.start("model-provider", [process.execPath, PROVIDER_MAIN.pathname, String(MODEL_PORT)]);
    await proc.waitFor("listening", 60_000);
  }

  /** What the host's model server was asked, one prompt per chat turn (whichever gateway asked). */
  async turnsOn(host: Host): Promise<string[]> {
    const r = await host.run(["curl", "-sf", `http://127.0.0.1:${MODEL_PORT}/__requests`]);
    if (r.code !== 0) throw new Error(`${host.name}: the model server did not answer: ${r.stderr}`);
    const requests = JSON.parse(r.stdout) as { path: string; body?: { messages?: unknown } }[];
    return requests
      .filter((q) => q.path.endsWith("/chat/completions"))
      .map((q) => provider.lastUserText(q.body?.messages));
  }

  /**
   * Stops the gateways clawos started on `hosts` (their run/*.gateway.pid files and the remote
   * pids of their migration records), each by process group and only if it runs inside one of
   * the lab's namespaces (a stale pid may be another process's by now), then removes the lock
   * files OpenClaw leaves in the shared /tmp for the hosts' profiles.
   */
  async stopGateways(hosts: readonly Host[]): Promise<void> {
    const pids = new Set<number>();
    for (const host of hosts) for (const pid of await gatewayPids(host)) pids.add(pid);
    const inLab = new Set(hosts.flatMap((h) => pidsIn(h.net.ns)));
    await Promise.all([...pids].filter((pid) => inLab.has(pid)).map(stopGroup));
    for (const host of hosts) {
      for (const name of await readdir(host.home).catch(() => [] as string[])) {
        if (!name.startsWith(".openclaw")) continue;
        // A rolled-back copy's locks carry the name the profile had when its gateway ran.
        for (const dir of new Set([name, name.replace(/\.rolled-back-.*$/, "")]))
          support.removeStateLocks(join(host.home, dir));
      }
    }
  }
}

async function gatewayPids(host: Host): Promise<number[]> {
  const pids: number[] = [];
  const run = join(host.clawosHome, "run");
  for (const name of await readdir(run).catch(() => [] as string[])) {
    if (name.endsWith(".gateway.pid")) pids.push(Number((await readFile(join(run, name), "utf8")).trim()));
  }
  const migrations = join(host.clawosHome, "migrations");
  for (const name of await readdir(migrations).catch(() => [] as string[])) {
    const record = JSON.parse(await readFile(join(migrations, name), "utf8")) as {
      remote?: { pid?: number };
    };
    pids.push(Number(record.remote?.pid));
  }
  return pids.filter((pid) => Number.isInteger(pid) && pid > 1);
}

function alive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM to the group, SIGKILL after 15 s. */
async function stopGroup(pid: number): Promise<void> {
  if (!alive(pid)) return;
  process.kill(-pid, "SIGTERM");
  for (let i = 0; i < 150 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) process.kill(-pid, "SIGKILL");
}
