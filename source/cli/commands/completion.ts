import type { Command } from "commander";
import { UserError } from "../../core/domain/errors.js";
import { shortTaskId } from "../../core/domain/ids.js";
import { sanitizeLine } from "../../core/infra/sanitize.js";
import type { CliContext } from "../context.js";

/** Finished tasks offered for completion besides the active ones: the newest few. */
const FINISHED_OFFERED = 50;

/** Where a word is a node or a task id: after these options, or as these commands' argument. */
const NODE_OPTIONS = ["--to", "--node"];
const TASK_ARGUMENT = ["tasks show", "tasks retry", "tasks cancel"];
const NODE_ARGUMENT = ["nodes remove", "nodes probe", "migrate"];

/** `clawos completion bash|zsh`, and the hidden `clawos __complete nodes|tasks` the script calls back. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command("completion")
    .description('print a shell completion script: eval "$(clawos completion bash)"')
    .argument("<shell>", "bash or zsh")
    .action(
      ctx.action((shell: string) => {
        if (shell !== "bash" && shell !== "zsh")
          throw new UserError(`No completion for "${sanitizeLine(shell).slice(0, 20)}".`, {
            hint: "use bash or zsh",
            code: "usage",
          });
        ctx.out(completionScript(program, shell));
      }),
    );
  program
    .command("__complete", { hidden: true })
    .argument("<kind>", "nodes or tasks")
    .action(
      ctx.action(async (kind: string) => {
        // Quiet on any trouble: a completion must never print an error into the command line.
        await ctx
          .withCore(async (core) => {
            if (kind === "nodes") {
              ctx.out(core.nodes.map((n) => n.id).join("\n"));
              return;
            }
            if (kind !== "tasks") return;
            const { tasks } = await core.blackboard.list({ finishedLimit: FINISHED_OFFERED });
            const ids = tasks.map((t) => t.request.id);
            // The whole ids, and their last 8 hex (what narrow tables show; both resolve).
            ctx.out([...new Set([...ids, ...ids.map(shortTaskId)])].join("\n"));
          })
          .catch(() => undefined);
      }),
    );
}

/**
 * This very clawos as a shell command, for `npx clawos` completions: running npx on every Tab
 * would be slow (in the checkout it even rebuilds first), so the script calls the same files.
 */
function selfCommand(): string {
  const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  return [process.execPath, process.argv[1] ?? "clawos"].map(quote).join(" ");
}

/** Built from the command tree itself, so it never drifts from the real commands. */
function completionScript(program: Command, shell: "bash" | "zsh"): string {
  const visible = (cmd: Command) =>
    cmd.commands.filter((c) => c.name() !== "help" && c.name() !== "__complete");
  const words = (cmd: Command) => [
    ...visible(cmd).map((c) => c.name()),
    ...cmd.options.map((o) => o.long).filter((o): o is string => Boolean(o)),
  ];
  const cases = visible(program)
    .filter((c) => c.commands.length || c.options.length)
    .map((c) => `      ${c.name()}) words="${words(c).join(" ")}" ;;`)
    .join("\n");
  const subCases = visible(program)
    .flatMap((c) => visible(c).map((s) => ({ path: `${c.name()} ${s.name()}`, cmd: s })))
    .filter(({ cmd }) => cmd.options.length)
    .map(({ path, cmd }) => `      "${path}") words="${words(cmd).join(" ")}" ;;`)
    .join("\n");
  const orList = (items: string[]) => items.map((i) => `"${i}"`).join("|");
  // Node and task ids come from `clawos __complete`, run as the user ran clawos (`npx clawos`
  // included): one cheap read of federation.json or the board, never a probe.
  const body = `_clawos_ids() {
  if [ -n "$self" ]; then ${selfCommand()} __complete "$1" 2>/dev/null
  else "\${COMP_WORDS[0]}" __complete "$1" 2>/dev/null; fi
}
_clawos_complete() {
  local first=1 self=""
  if [ "\${COMP_WORDS[0]##*/}" = npx ]; then
    if [ "\${COMP_WORDS[1]}" != clawos ]; then COMPREPLY=(); return; fi
    first=2; self=1
  fi
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
  local at=$((COMP_CWORD - first + 1)) sub="\${COMP_WORDS[first]}" sub2="\${COMP_WORDS[first+1]}" words=""
  case "$prev" in
    ${orList(NODE_OPTIONS)})
      words="$(_clawos_ids nodes)"
      [ "$prev" = --to ] && words="any $words"
      COMPREPLY=( $(compgen -W "$words" -- "$cur") ); return ;;
  esac
  if [ "$at" -eq 1 ]; then
    words="${words(program).join(" ")}"
  elif [ "$at" -eq 3 ] && [[ "$cur" != -* ]] && case "$sub $sub2" in ${orList(TASK_ARGUMENT)}) true ;; *) false ;; esac; then
    words="$(_clawos_ids tasks)"
  elif [[ "$cur" != -* ]] && { { [ "$at" -eq 3 ] && case "$sub $sub2" in ${orList(NODE_ARGUMENT)}) true ;; *) false ;; esac; } || { [ "$at" -eq 2 ] && case "$sub" in ${orList(NODE_ARGUMENT)}) true ;; *) false ;; esac; }; }; then
    words="$(_clawos_ids nodes)"
  elif [ "$at" -ge 3 ]; then
    case "$sub $sub2" in
${subCases}
      *) case "$sub" in
${cases}
         esac ;;
    esac
  else
    case "$sub" in
${cases}
    esac
  fi
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}`;
  return shell === "bash"
    ? `# clawos bash completion (clawos … and npx clawos …)\n${body}\ncomplete -F _clawos_complete clawos\ncomplete -o default -F _clawos_complete npx`
    : `# clawos zsh completion (clawos … and npx clawos …)\nautoload -U +X bashcompinit && bashcompinit\n${body}\ncomplete -F _clawos_complete clawos\ncomplete -o default -F _clawos_complete npx`;
}
