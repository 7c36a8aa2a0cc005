import type { NodeView } from "../../../core/domain/federation-types.js";
import { cmd } from "../../../present/invocation.js";
import { type AppState, topScreen } from "../../state/app-state.js";
import { refuseReadonly, say, selectedNode } from "../../state/reducer-kit.js";
import { textField } from "../../state/text-edit.js";
import { askCordon } from "../cordon/state.js";
import { GATEWAY_USAGE, parseGatewayArgs } from "./command.js";

type GatewayAction = "start" | "stop" | "restart";

/**
 * A node's life from the control center: start, stop or restart its gateway, and remove it.
 * Each asks first; the work is done by the federation (`nodeLifecycle`, `removeNode`), never here.
 */

/** Statuses that mean its gateway answers (so the key stops it); any other starts it. */
const ANSWERING = new Set(["online", "stale", "misconfigured"]);

function nodeOf(state: AppState, id: string): NodeView | undefined {
  return state.snapshot.nodes.find((n) => n.id === id);
}

/** Only a gateway on this machine: another machine's node says where to run the command. */
function notHere(node: NodeView, command: string): string | undefined {
  if (node.transport === "planned") return `${node.id} is planned: it has no gateway yet.`;
  if (node.transport !== "localhost")
    return `${node.id} runs on ${node.machine}: run ${cmd(`nodes ${command} ${node.id}`)} there.`;
  return undefined;
}

function askGateway(state: AppState, node: NodeView, action: GatewayAction): AppState {
  const why = notHere(node, action);
  if (why) return say(state, why, "error");
  const verb = { start: "Start", stop: "Stop", restart: "Restart" }[action];
  const doing = { start: "Starting", stop: "Stopping", restart: "Restarting" }[action];
  return {
    ...state,
    confirm: {
      prompt: `${verb} the gateway of ${node.id} (port ${node.port})?`,
      effects: [{ type: "nodeLifecycle", node: node.id, action }],
      yes: `${doing} the gateway of ${node.id}…`,
      no: "Nothing changed.",
      clearMarks: false,
    },
  };
}

function askRemove(state: AppState, node: NodeView, keepRunning: boolean, purge: boolean): AppState {
  const local = node.transport === "localhost";
  if (purge && !local) return say(state, `${node.id} runs on ${node.machine}: purge it there.`, "error");
  const stop = local && !keepRunning;
  const profile = node.profile && node.profile !== "default" ? `~/.openclaw-${node.profile}` : "~/.openclaw";
  const what = [
    stop ? "stop its gateway" : local ? "leave its gateway running" : "",
    purge ? `move ${profile} aside (renamed, not deleted)` : "",
  ].filter(Boolean);
  return {
    ...state,
    confirm: {
      prompt: `Remove ${node.id}${what.length ? `, ${what.join(" and ")}` : ""}?`,
      effects: [{ type: "removeNode", node: node.id, stop, purge }],
      yes: `Removing ${node.id}…`,
      no: "Nothing removed.",
      clearMarks: false,
    },
  };
}

/**
 * The key: the palette opens with the likely command for the selected node (stop a gateway
 * that answers, start one that does not), ready to change to restart or remove before Enter.
 */
export function gatewaySelected(state: AppState): AppState {
  if (state.readonly) return refuseReadonly(state, "gateway");
  if (topScreen(state).kind !== "nodes")
    return say(state, "Start/stop/remove is a node action: select a node on the Nodes table (Tab).");
  const node = selectedNode(state);
  if (!node) return say(state, "Select a node first.");
  const action = ANSWERING.has(node.status) ? "stop" : "start";
  return { ...state, input: { kind: "palette", field: textField(`gateway ${action} ${node.id}`) } };
}

export function gatewayCommand(state: AppState, args: string): AppState {
  const parsed = parseGatewayArgs(args);
  if (!parsed) return say(state, GATEWAY_USAGE, "error");
  const node = nodeOf(state, parsed.node);
  if (!node) return say(state, `There is no node "${parsed.node}".`, "error");
  if (parsed.action === "remove") return askRemove(state, node, parsed.keepRunning, parsed.purge);
  if (parsed.action === "cordon" || parsed.action === "uncordon" || parsed.action === "drain")
    return askCordon(state, node, parsed.action);
  return askGateway(state, node, parsed.action);
}
