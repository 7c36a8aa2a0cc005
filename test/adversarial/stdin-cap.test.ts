/** `clawos dispatch -` fed far more than a task holds: it stops reading at its cap and refuses. */
import assert from "node:assert/strict";
import { once } from "node:events";
import { after, before, test } from "node:test";
import { makeWorld, type World } from "../testkit/cli-harness.js";

let world: World;
before(async () => {
  world = await makeWorld();
});
after(async () => {
  await world.cleanup();
});

test("dispatch - stops reading stdin at its cap and refuses, while the producer never ends", async () => {
  const cli = world.spawn(["dispatch", "-", "--to", "x"]);
  const stdin = cli.child.stdin;
  assert.ok(stdin);
  stdin.on("error", () => {}); // EPIPE once clawos stops reading: expected
  // Like `yes`: writes until clawos stops reading, and never closes its end. (The 256 MiB
  // bound only keeps a clawos that reads everything from eating the machine.)
  const chunk = Buffer.from("y\n".repeat(32 * 1024));
  let handedOver = 0;
  let exited = false;
  const code = cli.exited.then((c) => {
    exited = true;
    return c;
  });
  const producer = (async () => {
    while (!exited && !stdin.destroyed && handedOver < 256 * 1024 * 1024) {
      handedOver += chunk.length;
      if (!stdin.write(chunk))
        await Promise.race([once(stdin, "drain"), once(stdin, "close"), code]).catch(() => {});
    }
  })();
  const timeout = new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 60_000).unref());
  const outcome = await Promise.race([code, timeout]);
  if (outcome === "hung") cli.child.kill("SIGKILL");
  await producer;
  assert.notEqual(outcome, "hung", `still reading after ${handedOver} bytes`);
  assert.equal(outcome, 2, cli.output());
  assert.match(
    cli.output(),
    /The task text on stdin is longer than \d+ KiB; a task holds at most 100000 characters\./,
  );
  assert.match(cli.output(), /fix: put the long part in a file/);
  assert.ok(cli.output().trim().split("\n").length <= 2, cli.output());
  // What clawos took is its cap plus what the pipe and the stream buffers hold, not the flood.
  assert.ok(handedOver < 8 * 1024 * 1024, `clawos read ${handedOver} bytes before refusing`);
});
