/**
 * Production React for the control center, whatever started the process.
 *
 * React picks its build when it is first loaded, from NODE_ENV. Nothing sets
 * NODE_ENV for `clawos`, so it used to run the development build, which for
 * every commit diffs the props of changed components into performance-track
 * entries and structured-clones them: with a 10 000-task snapshot in the props
 * that was most of a core and ~900 MB of RSS (BENCHMARKS.md, "Control center"). This module
 * is imported before Ink (and so React) by run-tui; it only fills in NODE_ENV when
 * nobody chose one and React is not loaded yet (a test process that loaded the
 * development build keeps it: two builds in one process do not mix).
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
// Node lists CommonJS modules an ES module imports in the cache before running them: only `loaded` ones count.
const reactLoaded = Object.entries(require.cache).some(
  ([file, module]) =>
    module?.loaded === true && /[\\/]node_modules[\\/](?:react|react-reconciler)[\\/]/.test(file),
);
if (process.env.NODE_ENV === undefined && !reactLoaded) process.env.NODE_ENV = "production";
