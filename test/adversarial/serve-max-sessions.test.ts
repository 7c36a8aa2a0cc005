/** --max-sessions limits control centers (shells), however many connections or channels carry them. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { Client, ClientChannel } from "ssh2";
import { normalUserWorks, type Served, serve, until } from "./serve-support.js";

let served: Served;
before(async () => {
  served = await serve({
    keys: ["user"],
    authorizedKeys: (pub) => `${pub("user")}\n`,
    args: ["--max-sessions", "1"],
  });
});
after(async () => {
  await served.close();
});

function shell(
  client: Client,
): Promise<{ channel: ClientChannel; text: () => string; exit: Promise<number | undefined> }> {
  return new Promise((resolve, reject) =>
    client.shell({ term: "xterm", cols: 80, rows: 24 }, (error, channel) => {
      if (error) return reject(error);
      let text = "";
      channel.on("data", (d: Buffer) => {
        text += d.toString("utf8");
      });
      const exit = new Promise<number | undefined>((r) => channel.on("exit", (code: number) => r(code)));
      resolve({ channel, text: () => text, exit });
    }),
  );
}

test("a connection without a shell takes no session; a second shell over one connection is turned away", async () => {
  // Logged in, no shell yet: not a session.
  const idle = await served.client("user");
  await normalUserWorks(served, "user");

  const first = await shell(idle);
  await until(served, () => first.text().includes("ClawOS Federation"), "the first shell's control center");
  const second = await shell(idle);
  assert.equal(await second.exit, 1);
  assert.match(second.text(), /already has 1 sessions; try again later/);
  assert.doesNotMatch(second.text(), /ClawOS Federation/, "no second control center");
  assert.ok(
    first.text().includes("ClawOS Federation") && !first.channel.destroyed,
    "the first one is untouched",
  );
});

test("a key holder cannot pile up logged-in connections, and a turned-away shell ends a connection that has no other", async () => {
  // One control center is open (the first test's); room is --max-sessions + 10 logins in flight.
  const extra: Client[] = [];
  for (let i = 0; i < 10; i++) extra.push(await served.client("user"));
  const over = await served.client("user");
  let overClosed = false;
  over.once("close", () => {
    overClosed = true;
  });
  await until(served, () => overClosed, "the connection over the limit to be closed");
  await served.waitForLog(/turned away \(already 11 connections\)/);

  const lone = extra.pop()!;
  let loneClosed = false;
  lone.once("close", () => {
    loneClosed = true;
  });
  const refused = await shell(lone);
  assert.equal(await refused.exit, 1);
  await until(served, () => loneClosed, "the connection of the refused shell to be closed");

  for (const c of extra) c.end();
});
