// `berth completion bash|zsh`: a completion script for the shell, from the commands and their option
// tables (a built-in of cli/berth.ts, like --version, since it lists every command).
import type { CommandEntry } from './command.ts';

/** Every command with its options (`--long` and `-s`), for the completion scripts. */
async function table(commands: CommandEntry[]): Promise<[string, string[]][]> {
  const rows: [string, string[]][] = [];
  for (const c of commands) {
    const command = await c.load();
    const flags = Object.entries(command.options).flatMap(([long, o]) => [
      `--${long}`,
      ...(o.short ? [`-${o.short}`] : []),
    ]);
    rows.push([c.name, [...flags, '--help']]);
  }
  return rows;
}

function bashScript(rows: [string, string[]][]): string {
  const cases = rows.map(([name, flags]) => `    ${name}) opts="${flags.join(' ')}" ;;`).join('\n');
  return `# berth completion for bash: eval "$(berth completion bash)" (or save it in
# /etc/bash_completion.d/berth). Commands, then each command's options; files otherwise.
_berth() {
  local cur=\${COMP_WORDS[COMP_CWORD]} opts
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${rows.map(([n]) => n).join(' ')} completion help --help --version" -- "$cur"))
    return
  fi
  case \${COMP_WORDS[1]} in
${cases}
    *) opts="" ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o filenames -F _berth berth
`;
}

/** The completion script for `shell` ('bash' or 'zsh'). */
export async function completionScript(shell: 'bash' | 'zsh', commands: CommandEntry[]): Promise<string> {
  const script = bashScript(await table(commands));
  return shell === 'bash'
    ? script
    : `#compdef berth\n# berth completion for zsh: eval "$(berth completion zsh)" (through bash's completion).\nautoload -U +X bashcompinit && bashcompinit\n${script}`;
}
