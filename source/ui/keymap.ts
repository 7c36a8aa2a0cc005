/**
 * The one keymap: every action the control center understands, its default
 * keys and the line the help overlay shows for it. The input handler and the
 * help overlay both read the resolved map, so they can never disagree.
 */

export type KeyGroup = "Navigate" | "Views" | "Tasks" | "Federation";
/** The home screen's panes; Tab gives the keys from one to the next. */
export type Pane = "nodes" | "tasks" | "reply";

export interface ActionSpec {
  keys: readonly string[];
  help: string;
  group: KeyGroup;
  /** Changes the federation: hidden and refused in a read-only session. */
  mutating?: boolean;
  /** On the home screen, the panes it acts in (default: every one); in another it only says where it works. */
  panes?: readonly Pane[];
}

export const ACTIONS = {
  up: { keys: ["k", "up"], help: "Move up", group: "Navigate" },
  down: { keys: ["j", "down"], help: "Move down", group: "Navigate" },
  top: { keys: ["g", "home"], help: "First row", group: "Navigate" },
  bottom: { keys: ["G", "end"], help: "Last row", group: "Navigate" },
  pageUp: { keys: ["pageup", "ctrl+b"], help: "Page up", group: "Navigate" },
  pageDown: { keys: ["pagedown", "ctrl+f"], help: "Page down", group: "Navigate" },
  open: { keys: ["enter"], help: "Drill in (node, task)", group: "Navigate" },
  back: { keys: ["escape"], help: "Back / clear filter", group: "Navigate" },
  switchPane: { keys: ["tab"], help: "Focus nodes/tasks/reply", group: "Views" },
  filter: { keys: ["/"], help: "Filter rows (see below)", group: "Views", panes: ["nodes", "tasks"] },
  palette: { keys: [":"], help: "Command palette", group: "Views" },
  help: { keys: ["?"], help: "Show / hide this help", group: "Views" },
  logs: { keys: ["l"], help: "Node log (/ filters)", group: "Views" },
  dispatch: { keys: ["d"], help: "Dispatch a new task", group: "Tasks", mutating: true },
  retry: { keys: ["r"], help: "Retry failed/cancelled", group: "Tasks", mutating: true },
  cancel: { keys: ["x"], help: "Cancel task (asks first)", group: "Tasks", mutating: true },
  /** Marks only feed bulk retry and cancel: off (and hidden) with them in a read-only session. */
  mark: { keys: ["space"], help: "Mark for bulk r / x", group: "Tasks", mutating: true, panes: ["tasks"] },
  refresh: { keys: ["R"], help: "Refresh, re-probe nodes", group: "Federation" },
  discover: {
    keys: ["i"],
    help: "Discover local profiles",
    group: "Federation",
    mutating: true,
  },
  migrate: {
    keys: ["m"],
    help: "Migrate over SSH (asks)",
    group: "Federation",
    mutating: true,
  },
  gateway: {
    keys: ["s"],
    help: "Start/stop/drain… (asks)",
    group: "Federation",
    mutating: true,
  },
  audit: { keys: ["A"], help: "Audit log: who did what", group: "Federation" },
  // With the views: the Federation column has room for one more action that way at 80×24.
  quit: { keys: ["q", "ctrl+c"], help: "Quit", group: "Views" },
} as const satisfies Record<string, ActionSpec>;

export type Action = keyof typeof ACTIONS;
export const ACTION_NAMES = Object.keys(ACTIONS) as Action[];
export const KEY_GROUPS: readonly KeyGroup[] = ["Navigate", "Views", "Tasks", "Federation"];

export interface Keymap {
  /** Final keys of every action, in display order. */
  bindings: Record<Action, string[]>;
  /** Key name → action. */
  lookup: ReadonlyMap<string, Action>;
  /** Problems with the user's rebinding, one readable line each. */
  warnings: string[];
}

const SPECIAL_KEYS = new Set([
  "up",
  "down",
  "left",
  "right",
  "pageup",
  "pagedown",
  "home",
  "end",
  "enter",
  "escape",
  "tab",
  "shift+tab",
  "backspace",
  "delete",
  "space",
]);

const ALIASES: Record<string, string> = {
  esc: "escape",
  return: "enter",
  cr: "enter",
  pgup: "pageup",
  "page-up": "pageup",
  page_up: "pageup",
  pgdn: "pagedown",
  pgdown: "pagedown",
  "page-down": "pagedown",
  page_down: "pagedown",
  arrowup: "up",
  arrowdown: "down",
  arrowleft: "left",
  arrowright: "right",
  backtab: "shift+tab",
  bs: "backspace",
  del: "delete",
  spacebar: "space",
};

/**
 * Canonical name of a key written in a config file: single characters stay as
 * they are (case matters: "r" is not "R"); named keys are lower-case;
 * "Ctrl-X", "C-x" and "ctrl+x" all become "ctrl+x". Returns null if unknown.
 */
export function normalizeKeyName(raw: string): string | null {
  if (raw === " ") return "space";
  const name = raw.trim();
  if ([...name].length === 1) return name;
  const lower = name.toLowerCase();
  const ctrl = /^(?:ctrl|control|c)[-+]([a-z])$/.exec(lower);
  if (ctrl) return `ctrl+${ctrl[1]}`;
  const shiftTab = /^shift[-+]tab$/.exec(lower);
  if (shiftTab) return "shift+tab";
  const canonical = ALIASES[lower] ?? lower;
  return SPECIAL_KEYS.has(canonical) ? canonical : null;
}

function isAction(name: string): name is Action {
  return Object.hasOwn(ACTIONS, name);
}

/**
 * Defaults plus the user's rebinding (action → key or keys, from the config).
 * A rebound action replaces its defaults; a key it takes is removed from the
 * action that had it by default, so the help overlay stays truthful.
 */
export function resolveKeymap(overrides: Record<string, string | string[]> = {}): Keymap {
  const warnings: string[] = [];
  const bindings = {} as Record<Action, string[]>;
  const claimed = new Map<string, Action>();
  const rebound = new Set<Action>();

  for (const [action, value] of Object.entries(overrides)) {
    if (!isAction(action)) {
      warnings.push(`keys: unknown action '${action}' (known: ${ACTION_NAMES.join(", ")})`);
      continue;
    }
    const keys: string[] = [];
    for (const raw of Array.isArray(value) ? value : [value]) {
      const key = normalizeKeyName(raw);
      if (key === null) {
        warnings.push(`keys.${action}: unknown key '${raw}'`);
        continue;
      }
      const owner = claimed.get(key);
      if (owner && owner !== action) {
        warnings.push(`keys.${action}: '${key}' is already bound to ${owner}`);
        continue;
      }
      if (!keys.includes(key)) keys.push(key);
      claimed.set(key, action);
    }
    if (keys.length === 0) {
      warnings.push(`keys.${action}: no usable key, keeping the default`);
      continue;
    }
    bindings[action] = keys;
    rebound.add(action);
  }

  for (const action of ACTION_NAMES) {
    if (rebound.has(action)) continue;
    const keys: string[] = [];
    for (const key of ACTIONS[action].keys) {
      const owner = claimed.get(key);
      if (owner) {
        warnings.push(`'${key}' now runs ${owner}, no longer ${action}`);
        continue;
      }
      keys.push(key);
      claimed.set(key, action);
    }
    bindings[action] = keys;
  }

  const ordered = {} as Record<Action, string[]>;
  for (const action of ACTION_NAMES) ordered[action] = bindings[action];
  return { bindings: ordered, lookup: claimed, warnings };
}

/** How a key name is shown to people: "enter" → "Enter", "ctrl+c" → "Ctrl+C". */
export function displayKey(key: string): string {
  const names: Record<string, string> = {
    up: "↑",
    down: "↓",
    left: "←",
    right: "→",
    pageup: "PgUp",
    pagedown: "PgDn",
    home: "Home",
    end: "End",
    enter: "Enter",
    escape: "Esc",
    tab: "Tab",
    "shift+tab": "Shift+Tab",
    backspace: "Backspace",
    delete: "Del",
    space: "Space",
  };
  if (names[key]) return names[key];
  const ctrl = /^ctrl\+(.)$/.exec(key);
  if (ctrl?.[1]) return `Ctrl+${ctrl[1].toUpperCase()}`;
  return key;
}

/** First key of an action for hints ("d dispatch"), or null when it has none. */
export function primaryKey(keymap: Keymap, action: Action): string | null {
  const key = keymap.bindings[action][0];
  return key === undefined ? null : displayKey(key);
}

export interface HelpEntry {
  action: Action;
  keys: string;
  help: string;
}

/** The help overlay's content: generated from the resolved keymap. */
export function helpEntries(keymap: Keymap, readonly: boolean): { group: KeyGroup; entries: HelpEntry[] }[] {
  return KEY_GROUPS.map((group) => ({
    group,
    entries: ACTION_NAMES.filter((action) => {
      const spec: ActionSpec = ACTIONS[action];
      return spec.group === group && !(readonly && spec.mutating) && keymap.bindings[action].length > 0;
    }).map((action) => ({
      action,
      keys: keymap.bindings[action].map(displayKey).join(" "),
      help: ACTIONS[action].help,
    })),
  })).filter((g) => g.entries.length > 0);
}
