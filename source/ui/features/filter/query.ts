import type { NodeView, TaskView } from "../../../core/domain/federation-types.js";

/**
 * The `/` filter language: whitespace-separated terms, all of which must
 * match. A term is free text (matched case-insensitively against the row's
 * visible text) or `field:value`; `value` may list alternatives with commas
 * (`state:pending,running`); a leading `-` negates a term. Quotes keep spaces
 * inside a term ("state:failed \"two words\"").
 */

export const FILTER_FIELDS = ["state", "node", "priority", "target", "id"] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];

const FIELD_ALIASES: Record<string, FilterField> = {
  state: "state",
  status: "state",
  s: "state",
  node: "node",
  n: "node",
  priority: "priority",
  prio: "priority",
  p: "priority",
  target: "target",
  to: "target",
  t: "target",
  id: "id",
};

export type FilterTerm =
  | { kind: "text"; value: string; negate: boolean }
  | { kind: "field"; field: FilterField; values: string[]; negate: boolean };

export interface ParsedFilter {
  source: string;
  terms: FilterTerm[];
  errors: string[];
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const re = /"([^"]*)"?|(\S+)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const quoted = m[1];
    const bare = m[2];
    if (quoted !== undefined) {
      if (quoted !== "") tokens.push(quoted);
    } else if (bare !== undefined) {
      // A bare token may still carry a quoted value: state:"two words".
      tokens.push(bare.replace(/"/g, ""));
    }
  }
  return tokens;
}

export function parseFilter(text: string): ParsedFilter {
  const terms: FilterTerm[] = [];
  const errors: string[] = [];
  for (const raw of tokenize(text)) {
    let token = raw;
    let negate = false;
    if (token.length > 1 && (token.startsWith("-") || token.startsWith("!"))) {
      negate = true;
      token = token.slice(1);
    }
    const colon = token.indexOf(":");
    if (colon > 0) {
      const name = token.slice(0, colon).toLowerCase();
      const field = FIELD_ALIASES[name];
      if (field) {
        const values = token
          .slice(colon + 1)
          .split(",")
          .map((v) => v.trim().toLowerCase())
          .filter((v) => v !== "");
        if (values.length === 0) {
          errors.push(`${name}: needs a value`);
          continue;
        }
        terms.push({ kind: "field", field, values, negate });
        continue;
      }
      if (/^[a-z]+$/.test(name) && !token.slice(colon + 1).startsWith("//")) {
        errors.push(`unknown field '${name}:' (use ${FILTER_FIELDS.map((f) => `${f}:`).join(" ")})`);
        continue;
      }
    }
    terms.push({ kind: "text", value: token.toLowerCase(), negate });
  }
  return { source: text, terms, errors };
}

function normalizePriority(value: string): string {
  return /^\d$/.test(value) ? `p${value}` : value;
}

/** Words people use for a state besides its name: the status line says "done". */
const STATE_ALIASES: Record<string, string> = { done: "completed", canceled: "cancelled" };

function fieldMatches(actual: string, field: FilterField, values: string[]): boolean {
  const a = actual.toLowerCase();
  switch (field) {
    case "state":
      return values.some((v) => a.startsWith(STATE_ALIASES[v] ?? v));
    case "priority":
      return values.some((v) => a === normalizePriority(v));
    default:
      return values.some((v) => a.includes(v));
  }
}

function termMatches(
  term: FilterTerm,
  haystack: string,
  fields: Partial<Record<FilterField, string>>,
): boolean {
  let hit: boolean;
  if (term.kind === "text") {
    hit = haystack.includes(term.value);
  } else {
    const actual = fields[term.field];
    hit = actual !== undefined && fieldMatches(actual, term.field, term.values);
  }
  return term.negate ? !hit : hit;
}

export function taskMatches(task: TaskView, filter: ParsedFilter): boolean {
  if (filter.terms.length === 0) return true;
  const haystack =
    `${task.id} ${task.target} ${task.node} ${task.state} ${task.priority} ${task.text}`.toLowerCase();
  const fields = {
    state: task.state,
    node: task.node,
    priority: task.priority,
    target: task.target,
    id: task.id,
  };
  return filter.terms.every((term) => termMatches(term, haystack, fields));
}

/** On the nodes table `state:` is the node status and `node:`/`id:` its id; other fields never match. */
export function nodeMatches(node: NodeView, filter: ParsedFilter): boolean {
  if (filter.terms.length === 0) return true;
  const haystack =
    `${node.id} ${node.status} ${node.reason} ${node.transport} ${node.host} ${node.port ?? ""} ${node.machine} ${node.notes ?? ""} ${node.tags.join(" ")}`.toLowerCase();
  const fields = { state: node.status, node: node.id, id: node.id };
  return filter.terms.every((term) => termMatches(term, haystack, fields));
}
