/** authorized_keys options are honoured where serve can enforce them, and lines it cannot honour are refused. */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { normalUserWorks, type Served, serve } from "./serve-support.js";

let served: Served;
before(async () => {
  served = await serve({
    keys: ["local", "elsewhere", "negated", "restricted", "nopty", "command", "unknown", "ca"],
    authorizedKeys: (pub) =>
      [
        `from="127.0.0.0/8,!10.*" ${pub("local")}`,
        `from="10.0.0.*,192.168.?.1" ${pub("elsewhere")}`,
        `from="!127.0.0.1,*" ${pub("negated")}`,
        `restrict ${pub("restricted")}`,
        `no-pty,no-port-forwarding ${pub("nopty")}`,
        `command="/bin/sh" ${pub("command")}`,
        `frobnicate ${pub("unknown")}`,
        `cert-authority ${pub("ca")}`,
        "",
      ].join("\n"),
  });
});
after(async () => {
  await served.close();
});

async function denied(key: string): Promise<void> {
  const s = served.ssh(key);
  const exit = await s.waitForExit();
  assert.equal(exit.exitCode, 255, `${key}: ${s.screenText()}`);
  assert.match(s.screenText(), /Permission denied \(publickey\)/, key);
}

test("from=, restrict and no-pty are enforced; command=, unknown options and cert-authority lines are refused and logged", async () => {
  await normalUserWorks(served, "local");
  await denied("elsewhere");
  await denied("negated");
  for (const key of ["command", "unknown", "ca"]) await denied(key);
  for (const key of ["restricted", "nopty"]) {
    const s = served.ssh(key);
    const exit = await s.waitForExit();
    assert.notEqual(exit.exitCode, 0, key);
    assert.match(s.screenText(), /may not open a terminal \(restrict or no-pty in authorized_keys\)/, key);
    assert.doesNotMatch(s.screenText(), /ClawOS Federation/, `${key} got no control center`);
  }
  const log = await served.log();
  assert.match(log, /line 6: key not loaded \(command= is not supported/);
  assert.match(log, /line 7: key not loaded \(option "frobnicate" is not understood/);
  assert.match(log, /line 8: key not loaded \(cert-authority is not supported/);
  assert.match(log, /not allowed from this address by from= on line 2/);
  assert.match(log, /not allowed from this address by from= on line 3/);
});
