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
