/** The control center's public surface: what the CLI and the SSH server mount. */
export {
  ACTION_NAMES,
  ACTIONS,
  type Action,
  type Keymap,
  normalizeKeyName,
  resolveKeymap,
} from "./keymap.js";
export { runTui, type TuiOptions } from "./run-tui.js";
