import type { CordonAction, NodeView } from "../../../core/domain/federation-types.js";
import type { AppState } from "../../state/app-state.js";
import { say } from "../../state/reducer-kit.js";

/**
 * Cordon, uncordon and drain from the control center (`:gateway cordon|uncordon|drain NODE`,
 * or the `s` key's palette changed to one of them). Each asks first; the federation writes the
 * node's record (its owner only, else it says where to run it), never the UI.
 */

const PROMPTS: Record<CordonAction, (node: string) => string> = {
  cordon: (node) => `Cordon ${node}? It takes no new tasks; what it runs and what waits there stay.`,
  uncordon: (node) => `Uncordon ${node}? It takes new tasks again.`,
  drain: (node) => `Drain ${node}? It takes no new tasks and its waiting any tasks go to other nodes.`,
};

const DOING: Record<CordonAction, string> = {
  cordon: "Cordoning",
  uncordon: "Uncordoning",
  drain: "Draining",
};

export function askCordon(state: AppState, node: NodeView, action: CordonAction): AppState {
  if (action === "uncordon" && !node.cordon) return say(state, `${node.id} is not cordoned.`);
  return {
    ...state,
    confirm: {
      prompt: PROMPTS[action](node.id),
      effects: [{ type: "cordon", node: node.id, action }],
      yes: `${DOING[action]} ${node.id}…`,
      no: "Nothing changed.",
      clearMarks: false,
    },
  };
}
