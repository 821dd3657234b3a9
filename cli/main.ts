// The `berth` process (bin/berth.js imports this): runs the command line and exits with its code.
import { berth } from './berth.ts';

process.exit(await berth(process.argv.slice(2)));
