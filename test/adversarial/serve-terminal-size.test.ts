/** A client's announced terminal size is untrusted: a huge pty or window-change must not take the server down. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { ClientChannel } from "ssh2";
import { normalUserWorks, type Served, serve, serverAlive, until } from "./serve-support.js";

let served: Served;
before(async () => {
  served = await serve({ keys: ["user"], authorizedKeys: (pub) => `${pub("user")}\n` });
});
after(async () => {
  await served.close();
});

test("a 65535×65535 pty and a window-change to a million are clamped; the server and other users carry on", async () => {
  // The real ssh client announces its terminal's size in pty-req: make that terminal huge.
  const huge = served.ssh("user", { before: "stty rows 65535 cols 65535" });
  await until(served, () => huge.output().includes("ClawOS Federation"), "the huge session's first frame");

  // A window-change to a million rows and columns, from a programmable client.
  const client = await served.client("user");
  const channel = await new Promise<ClientChannel>((resolve, reject) =>
    client.shell({ term: "xterm", cols: 80, rows: 24 }, (error, ch) => (error ? reject(error) : resolve(ch))),
  );
  let drawn = "";
  channel.on("data", (d: Buffer) => {
    drawn += d.toString("utf8");
  });
  await until(served, () => drawn.includes("ClawOS Federation"), "the small session's first frame");
  channel.setWindow(1_000_000, 1_000_000, 0, 0);
  drawn = "";
  await until(served, () => drawn.includes("ClawOS Federation"), "a frame after the window-change");

  await normalUserWorks(served, "user");
  assert.ok(serverAlive(served), "the server is still running");
  assert.match(
    await served.log(),
    /control center opened \(xterm-256color, 1000×500\)/,
    "drawn at the clamped size",
  );
  assert.equal(huge.exited, false, "the huge session is still open");
  channel.close();
  huge.write("q");
  assert.equal((await huge.waitForExit()).exitCode, 0);
});

test("client-supplied user names and terminal types reach the log without control characters", async () => {
  const hostile = "\u001b]0;pwned\u0007\u001b[2J\u009b31m";
  const client = await served.client("user", `eve${hostile}`);
  const channel = await new Promise<ClientChannel>((resolve, reject) =>
    client.shell({ term: `xterm${hostile}`, cols: 80, rows: 24 }, (error, ch) =>
      error ? reject(error) : resolve(ch),
    ),
  );
  const log = await served.waitForLog(/control center opened \(xterm/);
  channel.close();
  client.end();
  assert.match(log, /eve\?/, "the user name is logged, defanged");
  assert.doesNotMatch(log, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, "no control characters in serve.log");
});
