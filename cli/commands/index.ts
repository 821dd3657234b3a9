// Every `berth` subcommand, in the order `berth help` lists them. One line per command.
import type { Command } from '../command.ts';
import { buildSeedCommand } from './build-seed.ts';
import { serveCommand } from './serve.ts';

export const COMMANDS: Command[] = [
  serveCommand,
  buildSeedCommand,
];
