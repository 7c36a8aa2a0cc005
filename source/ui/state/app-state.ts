import type {
  AuditLine,
  CordonAction,
  DispatchInput,
  DispatchOutcome,
  LogView,
  MigrateInput,
  Snapshot,
} from "../../core/domain/federation-types.js";
import type { AuditViewState } from "../features/audit/state.js";
import type { DispatchFormState } from "../features/dispatch/form.js";
import type { LogsState } from "../features/logs/state.js";
import type { Migration } from "../features/migration/state.js";
import type { ReplyFocus } from "../features/reply/state.js";
import type { KeyPress } from "../input.js";
import type { Keymap } from "../keymap.js";
import type { ScreenSize } from "../layout.js";
import { EMPTY_CURSOR, type TableCursor } from "./navigation.js";
import type { TextField } from "./text-edit.js";

export type { Migration };

/** What fills the body. The stack's first entry is a table; Esc pops. */
export type Screen =
  | { kind: "nodes" }
  | { kind: "tasks"; drilledFrom?: { filter: string } }
  | { kind: "detail"; taskId: string; outcome?: DispatchOutcome }
  | { kind: "dispatch" }
  | { kind: "migrate" }
  | { kind: "logs" };

export type TableName = "nodes" | "tasks";

/** Side effects are data: the reducer queues them, the App runs them against the facade. */
export type Effect =
  | { type: "dispatch"; input: DispatchInput }
  | { type: "retry"; ids: string[] }
  | { type: "cancel"; ids: string[] }
  | { type: "refresh" }
  | { type: "discover" }
  | { type: "incubate"; name: string; start: boolean; configOnly: boolean }
  | { type: "migrate"; input: MigrateInput }
  | { type: "nodeLifecycle"; node: string; action: "start" | "stop" | "restart" }
  | { type: "removeNode"; node: string; stop: boolean; purge: boolean }
  | { type: "logs"; node: string }
  | { type: "stopLogs" }
  | { type: "cordon"; node: string; action: CordonAction }
  | { type: "audit" };

export interface Message {
  text: string;
  tone: "info" | "error";
  /** When a tick first saw it (it expires from then: see `onTick`). */
  shownAt?: number;
}

export type LineInput =
  | { kind: "filter"; field: TextField; before: string; table: TableName }
  | { kind: "palette"; field: TextField }
  /** The node action "migrate" asks where to: user@host[:port]. */
  | { kind: "migrateTarget"; node: string; field: TextField; error?: string };

export interface Confirm {
  prompt: string;
  effects: Effect[];
  /** Shown when the user says yes / anything else. */
  yes: string;
  no: string;
  clearMarks: boolean;
}

export interface Discovery {
  status: "idle" | "running" | "done" | "failed";
  found: string[];
  error?: string;
}

export interface AppState {
  snapshot: Snapshot;
  size: ScreenSize;
  readonly: boolean;
  keymap: Keymap;
  stack: Screen[];
  nodes: TableCursor & { filter: string };
  tasks: TableCursor & { filter: string; marks: string[] };
  detail: { scroll: number; follow: boolean };
  form: DispatchFormState | null;
  input: LineInput | null;
  confirm: Confirm | null;
  help: { scroll: number } | null;
  message: Message | null;
  discovery: Discovery;
  migration: Migration | null;
  /** The log view (`l`), while it is open. */
  logs: LogsState | null;
  effects: Effect[];
  quit: boolean;
  /** `:audit` open (over the tables, like the help). */
  audit: AuditViewState | null;
  /** The home screen's reply pane has the keys (Tab from the tasks); null: it has not. */
  reply: ReplyFocus | null;
}

export type AppAction =
  | { type: "snapshot"; snapshot: Snapshot }
  | { type: "resize"; size: ScreenSize }
  | { type: "key"; key: KeyPress }
  /** The clock, about once a second: messages expire. */
  | { type: "tick"; now: number }
  | { type: "dispatched"; outcome: DispatchOutcome }
  | { type: "dispatchFailed"; error: string }
  | { type: "discovered"; ids: string[] }
  | { type: "discoverFailed"; error: string }
  | { type: "notify"; message: Message }
  | { type: "migrateLine"; line: string }
  | { type: "migrateDone" }
  | { type: "migrateFailed"; error: string }
  | { type: "logLines"; view: LogView }
  | { type: "effectsTaken" }
  | { type: "auditLoaded"; lines: AuditLine[] }
  | { type: "auditFailed"; error: string };

export interface InitialStateOptions {
  snapshot: Snapshot;
  size: ScreenSize;
  keymap: Keymap;
  readonly?: boolean;
}

export function initialState({ snapshot, size, keymap, readonly = false }: InitialStateOptions): AppState {
  return {
    snapshot,
    size,
    readonly,
    keymap,
    stack: [{ kind: "nodes" }],
    nodes: { ...EMPTY_CURSOR, filter: "" },
    tasks: { ...EMPTY_CURSOR, filter: "", marks: [] },
    detail: { scroll: 0, follow: true },
    form: null,
    input: null,
    confirm: null,
    help: null,
    message: keymap.warnings.length > 0 ? { text: keymap.warnings.join("; "), tone: "error" } : null,
    discovery: { status: "idle", found: [] },
    migration: null,
    logs: null,
    effects: [],
    quit: false,
    audit: null,
    reply: null,
  };
}

export function topScreen(state: AppState): Screen {
  return state.stack[state.stack.length - 1] ?? { kind: "nodes" };
}

/** The table the user is looking at (or came from, under a detail view). */
export function activeTable(state: AppState): TableName {
  for (let i = state.stack.length - 1; i >= 0; i--) {
    const kind = state.stack[i]?.kind;
    if (kind === "nodes" || kind === "tasks") return kind;
  }
  return "nodes";
}
