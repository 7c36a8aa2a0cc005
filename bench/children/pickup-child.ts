import { DirectoryBlackboard } from "../../source/core/blackboard/directory/directory.js";
import { benchArgs, completedResult } from "../lib.js";

const values = benchArgs({
  root: { type: "string" },
  node: { type: "string" },
  "rescan-ms": { type: "string", default: "5000" },
});
if (!values.root || !values.node || !process.send) {
  process.stderr.write("usage: pickup-child --root DIR --node ID (spawned with an IPC channel)\n");
  process.exit(2);
}
const node = values.node;
const bb = new DirectoryBlackboard(values.root);
await bb.init();

let busy = false;
let again = false;
async function drain(): Promise<void> {
  if (busy) {
    again = true;
    return;
  }
  busy = true;
  try {
    do {
      again = false;
      for (;;) {
        const claim = await bb.claim(node);
        if (!claim) break;
        const claimedNs = process.hrtime.bigint().toString();
        process.send!({ type: "claimed", id: claim.request.id, claimedNs });
        await bb.complete(claim, completedResult(claim));
      }
    } while (again);
  } finally {
    busy = false;
  }
}

const unwatch = bb.watch({ inboxOf: node }, () => void drain());
const rescan = setInterval(() => void drain(), Number(values["rescan-ms"]));
process.on("message", (message: { type?: string }) => {
  if (message?.type === "stop") {
    unwatch();
    clearInterval(rescan);
    process.disconnect();
  }
});
// watch() sets itself up asynchronously; give it a moment before saying we are ready.
setTimeout(() => {
  void drain();
  process.send!({ type: "ready" });
}, 100);
