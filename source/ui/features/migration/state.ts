import type { KeyPress } from "../../input.js";
import type { AppState, Confirm, Effect, LineInput } from "../../state/app-state.js";
import { topScreen } from "../../state/app-state.js";
import { queue, refuseReadonly, say, selectedNode } from "../../state/reducer-kit.js";
import { editText, textField } from "../../state/text-edit.js";
import { MIGRATE_USAGE, parseMigrateArgs, parseMigrateTarget } from "./command.js";

/**
 * The one migration this session started (node action or :migrate): the plan is
 * shown first (a dry run), then the user confirms, then the steps stream in.
 */
export interface Migration {
  node: string;
  /** user@host[:port]; "" for a rollback. */
  to: string;
  /** Gateway port there, when not the same as here. */
  remotePort?: number;
  rollback: boolean;
  /**
   * planning: the dry run is running · confirm: the plan is shown, waiting for y/n ·
   * planned: only the plan was asked for (or the user said no) · running · done · failed
   */
  phase: "planning" | "confirm" | "planned" | "running" | "done" | "failed";
  /** Ask to go ahead once the plan is shown (the node action; :migrate without --dry-run). */
  confirmAfterPlan: boolean;
  /** What the migration said so far, oldest first (the plan, then each step). */
  lines: string[];
  error?: string;
  /** It failed before anything moved (the plan's checks). */
  failedWhilePlanning?: boolean;
}

/** Lines kept for the migration panel: a plan lists files, a long one is cut at its start. */
const MIGRATION_LINES = 400;

function migrationBusy(state: AppState): string | null {
  const m = state.migration;
  if (!m || (m.phase !== "planning" && m.phase !== "running")) return null;
  return m.rollback
    ? `The rollback of ${m.node} is still running.`
    : `The migration of ${m.node} to ${m.to} is still ${m.phase === "planning" ? "being planned" : "running"}.`;
}

/** Only a node that runs on this machine can be moved from here; null when this one can. */
function notMovable(state: AppState, id: string): string | null {
  const node = state.snapshot.nodes.find((n) => n.id === id);
  if (!node) return `There is no node "${id}".`;
  if (node.transport === "localhost") return null;
  if (node.transport === "planned") return `${id} is planned: it has no gateway to move yet.`;
  return `${id} runs on ${node.machine}: only nodes on this machine move from here. Undo a migration: :migrate --rollback ${id}`;
}

/** Show the migration panel on top (replacing an older one). */
function showPanel(state: AppState): AppState {
  const base = topScreen(state).kind === "migrate" ? state.stack.slice(0, -1) : state.stack;
  return { ...state, stack: [...base, { kind: "migrate" }] };
}

/** Start with the plan: a dry run whose lines fill the panel. */
function planMigration(
  state: AppState,
  node: string,
  to: string,
  confirmAfterPlan: boolean,
  remotePort?: number,
): AppState {
  const migration: Migration = {
    node,
    to,
    rollback: false,
    phase: "planning",
    confirmAfterPlan,
    lines: [],
    ...(remotePort ? { remotePort } : {}),
  };
  return queue(showPanel(say({ ...state, migration }, `Planning the migration of ${node} to ${to}…`)), {
    type: "migrate",
    input: { node, to, dryRun: true, ...(remotePort ? { remotePort } : {}) },
  });
}

/** The node action: ask where to, prefilled with the node's SSH target when it has one. */
export function migrateSelected(state: AppState): AppState {
  if (state.readonly) return refuseReadonly(state, "migrate");
  if (topScreen(state).kind !== "nodes")
    return say(state, "Migrate is a node action: select a node on the Nodes table (Tab) and press it there.");
  const node = selectedNode(state);
  if (!node) return say(state, "Select a node first.");
  const busy = migrationBusy(state);
  if (busy) return say(state, busy, "error");
  const why = notMovable(state, node.id);
  if (why) return say(state, why, "error");
  return {
    ...state,
    input: { kind: "migrateTarget", node: node.id, field: textField(node.sshTarget ?? "") },
  };
}

/** Keys while the node action's "where to?" prompt is open. */
export function onMigrateTargetKey(
  state: AppState,
  input: Extract<LineInput, { kind: "migrateTarget" }>,
  key: KeyPress,
): AppState {
  if (key.name === "escape") return say({ ...state, input: null }, "Nothing moved.");
  if (key.name === "enter") {
    const target = parseMigrateTarget(input.field.text);
    if (!target)
      return {
        ...state,
        input: { ...input, error: "type user@host or user@host:port (then --remote-port N if need be)" },
      };
    return planMigration({ ...state, input: null }, input.node, target.to, true, target.remotePort);
  }
  const field = editText(input.field, key);
  if (!field) return state;
  const { error: _error, ...rest } = input;
  return { ...state, input: { ...rest, field } };
}

/** `:migrate NODE --to user@host[:port] [--dry-run]` and `:migrate --rollback NODE`. */
export function migrateCommand(state: AppState, args: string): AppState {
  const parsed = parseMigrateArgs(args);
  if (!parsed) return say(state, MIGRATE_USAGE, "error");
  const busy = migrationBusy(state);
  if (busy) return say(state, busy, "error");
  if (parsed.kind === "invalid") return say(state, MIGRATE_USAGE, "error");
  const { node } = parsed;
  if (parsed.kind === "rollback") {
    const migration: Migration = {
      node,
      to: "",
      rollback: true,
      phase: "planned",
      confirmAfterPlan: false,
      lines: [],
    };
    return {
      ...state,
      migration,
      confirm: {
        prompt: `Roll back the migration of ${node}? It points at this machine again and its gateway there stops.`,
        effects: [{ type: "migrate", input: { node, to: "", rollback: true } }],
        yes: `Rolling back ${node}…`,
        no: "Nothing rolled back.",
        clearMarks: false,
      },
    };
  }
  const why = notMovable(state, node);
  if (why) return say(state, why, "error");
  return planMigration(state, node, parsed.to, !parsed.dryRun, parsed.remotePort);
}

/** After "y": the migration confirmed runs, its panel in view. */
export function migrationStarts(state: AppState, effects: readonly Effect[]): AppState {
  const started = effects.find((e) => e.type === "migrate");
  if (started?.type !== "migrate" || !state.migration) return state;
  // The run says its plan again, then each step: it starts on a clean panel.
  return showPanel({ ...state, migration: { ...state.migration, phase: "running", lines: [] } });
}

/** After "n" (or any other key) on the go-ahead: the plan stays, nothing moves. */
export function migrationDeclined(state: AppState): AppState {
  return state.migration?.phase === "confirm"
    ? { ...state, migration: { ...state.migration, phase: "planned" } }
    : state;
}

export function onMigrateLine(state: AppState, line: string): AppState {
  const m = state.migration;
  if (!m) return state;
  const lines = m.lines.length >= MIGRATION_LINES ? [...m.lines.slice(1), line] : [...m.lines, line];
  const next = { ...state, migration: { ...m, lines } };
  // The latest step in the status line too, unless a prompt has it.
  return line.trim() === "" || topScreen(state).kind === "migrate" ? next : say(next, line.trim());
}

export function onMigrateDone(state: AppState): AppState {
  const m = state.migration;
  if (!m) return state;
  if (m.phase === "planning") return planShown(state, m);
  if (m.phase !== "running") return state;
  const text = m.rollback
    ? `Rolled back: ${m.node} points at this machine again.`
    : `Migrated: ${m.node} now runs on ${m.to}.`;
  return say({ ...state, migration: { ...m, phase: "done" } }, text);
}

/** The dry run finished: ask to go ahead when that was asked for and nothing else has the prompt. */
function planShown(state: AppState, m: Migration): AppState {
  if (!m.confirmAfterPlan) {
    return say(
      { ...state, migration: { ...m, phase: "planned" } },
      `That is the plan; nothing moved. To go ahead: :migrate ${m.node} --to ${m.to}${m.remotePort ? ` --remote-port ${m.remotePort}` : ""}`,
    );
  }
  const confirm: Confirm = {
    prompt: `Migrate ${m.node} to ${m.to} now? It stops here, then starts there.`,
    effects: [
      {
        type: "migrate",
        input: { node: m.node, to: m.to, ...(m.remotePort ? { remotePort: m.remotePort } : {}) },
      },
    ],
    yes: `Migrating ${m.node} to ${m.to}…`,
    no: "Nothing moved.",
    clearMarks: false,
  };
  const migration: Migration = { ...m, phase: "confirm" };
  // Ask only while the plan is in view and nothing else is being typed.
  if (topScreen(state).kind === "migrate" && !state.input && !state.confirm && !state.form)
    return { ...state, migration, confirm };
  return say(
    { ...state, migration: { ...m, phase: "planned" } },
    `The plan to migrate ${m.node} is ready (nothing moved): :migrate ${m.node} --to ${m.to} shows it again.`,
  );
}

export function onMigrateFailed(state: AppState, error: string): AppState {
  const m = state.migration;
  if (!m) return say(state, error, "error");
  const line = error.replace(/\s+/g, " ").trim();
  return say(
    {
      ...state,
      migration: {
        ...m,
        phase: "failed",
        error: line,
        failedWhilePlanning: m.phase === "planning",
        lines: [...m.lines, `✗ ${line}`],
      },
    },
    line,
    "error",
  );
}
