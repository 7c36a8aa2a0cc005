import type { Command } from "commander";
import { UserError } from "../../core/domain/errors.js";
import { sanitizeLine } from "../../core/infra/sanitize.js";
import type { CliContext } from "../context.js";

/** `clawos completion bash|zsh`. */
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
}

/** Built from the command tree itself, so it never drifts from the real commands. */
function completionScript(program: Command, shell: "bash" | "zsh"): string {
  const words = (cmd: Command) => [
    ...cmd.commands.filter((c) => c.name() !== "help").map((c) => c.name()),
    ...cmd.options.map((o) => o.long).filter((o): o is string => Boolean(o)),
  ];
  const cases = program.commands
    .filter((c) => c.commands.length || c.options.length)
    .map((c) => `    ${c.name()}) words="${words(c).join(" ")}" ;;`)
    .join("\n");
  const body = `_clawos_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" sub="\${COMP_WORDS[1]}" words
  if [ "$COMP_CWORD" -eq 1 ]; then
    words="${words(program).join(" ")}"
  else
    case "$sub" in
${cases}
      *) words="" ;;
    esac
  fi
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
}`;
  return shell === "bash"
    ? `# clawos bash completion\n${body}\ncomplete -F _clawos_complete clawos`
    : `# clawos zsh completion\nautoload -U +X bashcompinit && bashcompinit\n${body}\ncomplete -F _clawos_complete clawos`;
}
