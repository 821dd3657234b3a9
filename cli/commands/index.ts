// Every `berth` subcommand, in the order `berth help` lists them. One line per command.
import type { Command } from '../command.ts';
import { buildSeedCommand } from './build-seed.ts';
import { execCommand } from './exec.ts';
import { imagesCommand } from './images.ts';
import { loadCommand } from './load.ts';
import { packCommand } from './pack.ts';
import { saveCommand } from './save.ts';
import { pullCommand } from './pull.ts';
import { pushCommand } from './push.ts';
import { rmiCommand } from './rmi.ts';
import { runCommand } from './run.ts';
import { serveCommand } from './serve.ts';

export const COMMANDS: Command[] = [
  pullCommand,
  imagesCommand,
  rmiCommand,
  pushCommand,
  runCommand,
  packCommand,
  saveCommand,
  loadCommand,
  serveCommand,
  buildSeedCommand,
  execCommand,
];
