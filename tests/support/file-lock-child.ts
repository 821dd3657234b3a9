// A process that takes berth's file locks, for runtime/run/file-locks.test.ts (run with `node --import tsx`):
//   count DIR NAME FILE N   N times under the lock: read the number in FILE, wait, write it plus one
//   hold DIR NAME           take the lock, print "locked", and wait to be killed
//   exit DIR NAME           take the lock and call process.exit while holding it
import { readFile, writeFile } from 'node:fs/promises';
import { fileLocks } from '../../runtime/run/file-locks.ts';

const [mode, dir, name, file, n] = process.argv.slice(2);
const lock = fileLocks(dir);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (mode === 'count') {
  for (let i = 0; i < Number(n); i++) {
    await lock([name], async () => {
      const value = Number((await readFile(file, 'utf8').catch(() => '0')) || '0');
      await sleep(1 + Math.random() * 3);
      await writeFile(file, String(value + 1));
    });
  }
} else if (mode === 'hold') {
  await lock([name], async () => {
    process.stdout.write('locked\n');
    await new Promise(() => setInterval(() => {}, 1000));
  });
} else if (mode === 'exit') {
  await lock([name], async () => process.exit(0));
} else {
  throw new Error(`unknown mode ${mode}`);
}
