/**
 * The reference for the control center's first frame and idle RSS (bench/suites/tui-first-frame.ts):
 * a one-line Ink app, started the way the control center starts (the same heap flags, taken by
 * the same execve), that draws one line and waits for `q`. What it costs is what any Ink 8 +
 * React 19 screen costs on this Node before it shows anything of its own.
 *
 * The suite bundles it first as clawos is bundled (ES chunks, React's production build, yoga
 * without fetch); `NODE_ENV=production node dist/bench/children/ink-hello.js` runs it unbundled.
 */
import module from "node:module";
import { restartWithCompactHeap } from "../../source/long-running-heap.js";

restartWithCompactHeap();
// Like source/bin.ts: compiled code kept between launches (here in Node's default place).
module.enableCompileCache?.();
await import("./ink-hello-app.js");
