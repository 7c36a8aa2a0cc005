/**
 * The README's quick starts, run word for word in a fresh HOME (the commands are read from
 * README.md), then what used to leave a task pending for want of a worker: a gateway that
 * comes back, Ctrl+C on `dispatch --wait`, and `tasks retry`. The worker a command starts
 * picks each of them up; nobody runs `clawos node run` by hand.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import JSON5 from "json5";
import { makeWorld, profileConfig, type World, workerPids } from "../testkit/cli-harness.js";
import { type StubGateway, startStubGateway } from "../testkit/stub-gateway.js";

const README = fileURLToPath(new URL("../../../README.md", import.meta.url));
const DEMO_GATEWAY = fileURLToPath(new URL("../testkit/demo-gateway.js", import.meta.url));
const ID = /(req_\d{8}_\d{6}_[0-9a-f]{8})/;

/** The shell lines of the quick start whose paragraph starts with `marker`. */
async function quickStart(marker: string): Promise<string[]> {
  const readme = await readFile(README, "utf8");
  const from = readme.indexOf(marker);
  assert.ok(from >= 0, `README has no "${marker}"`);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(from))?.[1] ?? "";
  return block
    .split("\n")
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter(Boolean);
}

/** Shell words: "quoted strings" and bare words. */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? "");
}

interface Ran {
  line: string;
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the lines as a shell would: `export`, `npx clawos …`, the demo gateway in the
 * background. `npm start` (the control center) needs a terminal and is left out.
 */
async function runLines(world: World, lines: string[], env: NodeJS.ProcessEnv): Promise<Ran[]> {
  const ran: Ran[] = [];
  for (const line of lines) {
    const [first, ...rest] = words(line);
    if (first === "export") {
      const [key, value] = (rest[0] ?? "").split("=");
      // The README's /tmp path, moved inside this test's HOME so runs never share it.
      env[key ?? ""] = value?.startsWith("/tmp/") ? join(world.home, value.slice(5)) : value;
    } else if (first === "npx" && rest[0] === "clawos") {
      const r = await world.run(rest.slice(1), { env });
      ran.push({ line, ...r });
      assert.equal(r.code, 0, `${line}\n${r.stderr}`);
    } else if (line.startsWith("npm run demo:gateway -- ") && line.endsWith("&")) {
      await startDemoGateway(world, words(line)[4] ?? "", env);
    } else if (line !== "npm start") {
      assert.fail(`the quick start has a line this test does not know how to run: ${line}`);
    }
  }
  return ran;
}

async function startDemoGateway(world: World, name: string, env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(process.execPath, [DEMO_GATEWAY, name], {
    env: { ...world.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  demoGateways.push(child);
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      if (d.toString().includes("demo gateway for")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`the demo gateway exited (${code})`)));
  });
}
const demoGateways: ReturnType<typeof spawn>[] = [];

async function stopDemoGateways(): Promise<void> {
  for (const child of demoGateways.splice(0)) {
    if (child.exitCode !== null) continue;
    const gone = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await gone;
  }
}

async function taskOf(world: World, id: string, env: NodeJS.ProcessEnv) {
  const r = await world.run(["tasks", "show", id, "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { state: string; attempt: number; reply?: string };
}

/** `tasks show --follow` until the task ends: it must complete, by the worker. */
async function followToCompletion(world: World, id: string, env: NodeJS.ProcessEnv): Promise<string> {
  const r = await world.run(["tasks", "show", id, "--follow"], { env, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  // Followed to its end, or already done (then it is shown as `tasks show` shows it).
  assert.match(`${r.stderr}${r.stdout}`, new RegExp(`${id} completed on|State {5}completed`));
  return r.stdout;
}

describe("README quick start without OpenClaw, word for word; nothing waits for a worker nobody started", () => {
  let world: World;
  const env: NodeJS.ProcessEnv = {};
  let stub: StubGateway | undefined;
  let port = 0;
  let token = "";

  before(async () => {
    world = await makeWorld();
    delete world.env.CLAWOS_WORKER_AUTOSTART; // a new user's defaults
  });
  after(async () => {
    await stopDemoGateways();
    await stub?.close();
    await world.cleanup();
  });

  test("the quick start's commands all succeed, and its dispatch gets the demo's answer", async () => {
    const ran = await runLines(world, await quickStart("**No OpenClaw on this machine yet?**"), env);
    const dispatch = ran.find((r) => r.line.includes("dispatch"));
    assert.equal(dispatch?.stdout.trim(), "echo: hello federation");
    assert.match(dispatch?.stderr ?? "", /Started this machine's worker in the background/);
    const status = await world.run(["status"], { env });
    assert.match(status.stdout, /Worker: in the background, pid \d+/);
    assert.match(status.stdout, /Tasks: 0 pending/);
    const profile = JSON5.parse(await readFile(join(world.home, ".openclaw-demo", "openclaw.json"), "utf8"));
    port = profile.gateway.port as number;
    token = profile.gateway.auth.token as string;
  });

  test("a task sent while the gateway is down runs when it comes back", async () => {
    await stopDemoGateways();
    const r = await world.run(["dispatch", "while you were out", "--to", "demo"], { env });
    assert.equal(r.code, 0, r.stderr);
    const id = ID.exec(r.stderr)?.[1];
    assert.ok(id, r.stderr);
    assert.equal((await taskOf(world, id, env)).state, "pending");
    const shown = await world.run(["tasks", "show", id], { env });
    assert.doesNotMatch(shown.stdout, /clawos node run/, "a worker serves demo: no hint to start one");
    stub = await startStubGateway({ port, token, reply: (p) => `back: ${p}` });
    assert.match(await followToCompletion(world, id, env), /back: while you were out/);
  });

  test("Ctrl+C on dispatch --wait: the task goes back to the inbox and the worker runs it", async () => {
    assert.ok(stub);
    const stopped = await world.run(["node", "stop-worker"], { env });
    assert.match(stopped.stdout, /Stopped this machine's background worker/);
    let open = () => {};
    stub.configure({ mode: "slow", slowUntil: new Promise<void>((resolve) => (open = resolve)) });
    const dispatch = world.spawn(["dispatch", "a long story", "--to", "demo", "--wait"], { env });
    await dispatch.waitFor(/→ demo via localhost/);
    const asked = () => stub?.requests.some((q) => q.prompt === "a long story");
    while (!asked()) await new Promise((r) => setTimeout(r, 50)); // the turn is under way here
    dispatch.child.kill("SIGINT");
    assert.equal(await dispatch.exited, 130, dispatch.output());
    assert.match(dispatch.output(), /Started this machine's worker in the background/);
    assert.match(dispatch.output(), /is back in demo's inbox \(attempt 1\/3\), nothing lost/);
    assert.match(dispatch.output(), /its worker picks it up shortly|demo's worker has picked it up again/);
    assert.doesNotMatch(dispatch.output(), /clawos node run/);
    const id = ID.exec(dispatch.output())?.[1];
    assert.ok(id);
    open();
    stub.configure({ mode: "ok" });
    assert.match(await followToCompletion(world, id, env), /back: a long story/);
  });

  test("tasks retry starts the worker when none runs, and the retried task completes", async () => {
    assert.ok(stub);
    await stub.close();
    stub = undefined;
    const r = await world.run(["dispatch", "try me again", "--to", "demo"], { env });
    const id = ID.exec(r.stderr)?.[1];
    assert.ok(id, r.stderr);
    assert.equal((await world.run(["tasks", "cancel", id], { env })).code, 0);
    const cancelled = await taskOf(world, id, env);
    assert.equal(cancelled.state, "cancelled");
    await world.run(["node", "stop-worker"], { env });
    assert.deepEqual(await workerPids(env.CLAWOS_HOME ?? ""), []);

    stub = await startStubGateway({ port, token, reply: (p) => `again: ${p}` });
    const retry = await world.run(["tasks", "retry", id], { env });
    assert.equal(retry.code, 0, retry.stderr);
    assert.match(retry.stderr, /Started this machine's worker in the background/);
    assert.match(await followToCompletion(world, id, env), /again: try me again/);
    assert.equal((await taskOf(world, id, env)).attempt, cancelled.attempt + 1);
  });
});

describe("README quick start with OpenClaw profiles, word for word", () => {
  let world: World;
  let main: StubGateway;
  let alpha: StubGateway;

  before(async () => {
    world = await makeWorld();
    delete world.env.CLAWOS_WORKER_AUTOSTART;
    main = await startStubGateway({ token: "m", reply: (p) => `main: ${p}` });
    alpha = await startStubGateway({ token: "a", reply: (p) => `alpha: ${p}` });
    await world.writeProfile(null, profileConfig(main.port, "m"));
    await world.writeProfile("alpha", profileConfig(alpha.port, "a"));
  });
  after(async () => {
    await main.close();
    await alpha.close();
    await world.cleanup();
  });

  test("init starts the worker; the dispatch answers; nothing is left pending", async () => {
    const ran = await runLines(world, await quickStart("**If you already run OpenClaw**"), {});
    const init = ran.find((r) => r.line.includes("init"));
    assert.match(init?.stderr ?? "", /Started this machine's worker in the background/);
    const dispatch = ran.find((r) => r.line.includes("dispatch"));
    assert.match(dispatch?.stdout ?? "", /^(main|alpha): say hello in Chinese/);
    assert.doesNotMatch(dispatch?.stderr ?? "", /Started this machine's worker/, "said once, by init");
    assert.equal((await workerPids(world.clawosHome)).length, 1);
    assert.match((await world.run(["status"])).stdout, /Tasks: 0 pending/);
  });
});
