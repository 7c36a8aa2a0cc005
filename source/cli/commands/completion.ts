import type { Command } from "commander";
import { UserError } from "../../core/domain/errors.js";
import { shortTaskId } from "../../core/domain/ids.js";
import { sanitizeLine } from "../../core/infra/sanitize.js";
import type { CliContext } from "../context.js";

/** Finished tasks offered for completion besides the active ones: the newest few. */
const FINISHED_OFFERED = 50;

/** Commands whose first argument is a task id, or a node (the words of the command path). */
const TASK_ARGUMENT = ["tasks show", "tasks retry", "tasks cancel"];
const NODE_ARGUMENT = [
  ...["remove", "rename", "probe", "cordon", "uncordon", "drain", "start", "stop", "restart", "access"].map(
    (action) => `nodes ${action}`,
  ),
  "logs",
  "migrate",
];
/** Commands whose `--to` names a node (`migrate --to` is an SSH target, `blackboard … --to` a URL). */
const TO_NODE = ["dispatch"];

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
    .map((c) => `        ${c.name()}) words="${words(c).join(" ")}" ;;`)
    .join("\n");
  const subCases = visible(program)
    .flatMap((c) => visible(c).map((s) => ({ path: `${c.name()} ${s.name()}`, cmd: s })))
    .map(({ path, cmd }) => `      "${path}") words="${words(cmd).join(" ")}" ;;`)
    .join("\n");
  // Options that take a value: the word after one is that value, not an argument.
  const all = (cmd: Command): Command[] => [cmd, ...cmd.commands.flatMap(all)];
  const valueOptions = [
    ...new Set(
      all(program).flatMap((c) =>
        c.options
          .filter((o) => o.required || o.optional)
          .flatMap((o) => [o.long, o.short].filter((f): f is string => Boolean(f))),
      ),
    ),
  ].join(" ");
  const orList = (items: string[]) => items.map((i) => `"${i}"`).join("|");
  const isOneOf = (word: string, items: string[]) =>
    `case "${word}" in ${orList(items)}) true ;; *) false ;; esac`;
  const oneWord = NODE_ARGUMENT.filter((p) => !p.includes(" "));
  const twoWords = NODE_ARGUMENT.filter((p) => p.includes(" "));
  // Node and task ids come from `clawos __complete`, run as the user ran clawos (`npx clawos`
  // included): one cheap read of federation.json or the board, never a probe. `args` holds the
  // words before the cursor that are neither options nor their values: the command path, then
  // its arguments, wherever the options stand.
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
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" words=""
  local i w skip="" args=()
  for ((i = first; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if [ -n "$skip" ]; then skip=""; continue; fi
    case "$w" in
      --*=*) ;;
      -*) case " ${valueOptions} " in *" $w "*) skip=1 ;; esac ;;
      *) args+=("$w") ;;
    esac
  done
  local n=\${#args[@]} path1="\${args[0]}" path2="\${args[0]} \${args[1]}"
  case "$prev" in
    --node) COMPREPLY=( $(compgen -W "$(_clawos_ids nodes)" -- "$cur") ); return ;;
    --to) if ${isOneOf("$path1", TO_NODE)}; then
        COMPREPLY=( $(compgen -W "any $(_clawos_ids nodes)" -- "$cur") ); return
      fi ;;
  esac
  # A value of some other option: nothing to offer (npx falls back to file names).
  if [ -n "$skip" ]; then COMPREPLY=(); return; fi
  if [ "$n" -eq 0 ]; then
    words="${words(program).join(" ")}"
  elif [[ "$cur" != -* ]] && [ "$n" -eq 2 ] && ${isOneOf("$path2", TASK_ARGUMENT)}; then
    words="$(_clawos_ids tasks)"
  elif [[ "$cur" != -* ]] && { { [ "$n" -eq 2 ] && ${isOneOf("$path2", twoWords)}; } || { [ "$n" -eq 1 ] && ${isOneOf("$path1", oneWord)}; }; }; then
    words="$(_clawos_ids nodes)"
  else
    case "$path2" in
${subCases}
      *) case "$path1" in
${cases}
         esac ;;
    esac
  fi
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}`;
  return shell === "bash"
    ? `# clawos bash completion (clawos … and npx clawos …)\n${body}\ncomplete -F _clawos_complete clawos\ncomplete -o default -F _clawos_complete npx`
    : `# clawos zsh completion (clawos … and npx clawos …)\nautoload -U +X bashcompinit && bashcompinit\n${body}\ncomplete -F _clawos_complete clawos\ncomplete -o default -F _clawos_complete npx`;
}
