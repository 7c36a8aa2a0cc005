/** Connections that never log in are untrusted: they are capped and timed out, and real users still get in. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdir } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { normalUserWorks, type Served, serve, serverAlive, until } from "./serve-support.js";

const run = promisify(execFile);

let served: Served;
before(async () => {
  served = await serve({
    keys: ["user"],
    authorizedKeys: (pub) => `${pub("user")}\n`,
    args: ["--login-grace-time", "3"],
  });
});
after(async () => {
  await served.close();
});

test("hundreds of silent connections neither exhaust the server's descriptors nor lock out a real user", async () => {
  const pid = served.server.child.pid ?? 0;
  // A tight descriptor limit, as on a small machine: what the server uses now, plus 60.
  const open = (await readdir(`/proc/${pid}/fd`)).length;
  await run("prlimit", [`--pid=${pid}`, `--nofile=${open + 60}:${open + 60}`]);

  // From another loopback address, 300 connections that never say a word.
  const silent: Socket[] = [];
  let closed = 0;
  for (let i = 0; i < 300; i++) {
    const socket = connect({ host: "127.0.0.1", port: served.port, localAddress: "127.0.0.2" });
    socket.on("error", () => {});
    socket.on("close", () => closed++);
    socket.resume(); // read what the server sends (its SSH banner), so its close is seen
    silent.push(socket);
  }
  await until(served, () => silent.every((s) => !s.connecting), "the silent connections to be made");

  await normalUserWorks(served, "user");
  // The ones over the cap were closed at once; the rest time out.
  await until(
    served,
    () => closed === silent.length,
    () => `every silent connection closed by the server (${closed} of ${silent.length})`,
  );
  assert.ok(serverAlive(served));
  await normalUserWorks(served, "user");
});
