// A `berth` subcommand: its name, a one-line usage, and a run function that returns the exit code.
export interface Command {
  name: string;
  usage: string;
  summary: string;
  run(args: string[]): Promise<number>;
}
