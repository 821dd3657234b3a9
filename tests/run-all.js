#!/usr/bin/env node
// `npm test`: checks the machine has what the tests need, then runs the typecheck, builds the CLI,
// runs the unit tests (vitest in Node), the build and the browser tests (vitest + Debian's
// Chromium), and ends with one line counting every test: `N passed, N failed[, N skipped]`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const RESULTS = '.test-results';
const chromium = process.env.CHROMIUM ?? '/usr/bin/chromium';
const totals = { passed: 0, failed: 0, skipped: 0 };
const failures = [];

function which(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).status === 0;
}

function checkPrerequisites() {
  const missing = [];
  const [major] = process.versions.node.split('.').map(Number);
  if (major < 20) missing.push(`Node 20 or newer (this is ${process.version})`);
  if (!existsSync(chromium))
    missing.push(`Chromium at ${chromium} (Debian: apt-get install chromium; or set CHROMIUM=/path/to/chromium)`);
  if (!existsSync('node_modules')) missing.push('the npm packages (run: npm install)');
  const registry = process.env.DOCKER_REGISTRY ?? '/usr/bin/docker-registry';
  if (!existsSync(registry))
    missing.push(`docker-registry at ${registry} (Debian: apt-get install docker-registry; or set DOCKER_REGISTRY)`);
  for (const [cmd, pkg] of [
    ['skopeo', 'skopeo'],
    ['openssl', 'openssl'],
    ['tar', 'tar'],
    ['umoci', 'umoci'],
    ['podman', 'podman'],
  ]) {
    if (!which(cmd)) missing.push(`${cmd} (Debian: apt-get install ${pkg})`);
  }
  if (missing.length) {
    console.error(`npm test cannot run; missing:\n${missing.map((m) => `  - ${m}`).join('\n')}`);
    console.error('See README.md, "Testing".');
    console.log(`0 passed, ${missing.length} failed`);
    process.exit(1);
  }
  // The cross-engine walk (tests/e2e/engines.test.ts) runs in every engine installed; say which are not.
  const engines = [
    ['Firefox ESR', existsSync(process.env.FIREFOX ?? '/usr/bin/firefox-esr'), 'firefox-esr'],
    [
      'WebKitGTK',
      which('WebKitWebDriver') &&
        which('xvfb-run') &&
        spawnSync('/usr/bin/python3', ['-c', "import gi; gi.require_version('WebKit2', '4.1')"]).status === 0,
      'webkit2gtk-driver xvfb python3-gi gir1.2-webkit2-4.1',
    ],
  ];
  for (const [name, ok, pkgs] of engines) {
    if (!ok) console.log(`note: ${name} is not installed; its e2e walk is skipped (Debian: apt-get install ${pkgs}).`);
  }
  if (!which('clang'))
    console.log(
      'note: clang is not installed; the committed .wasm fixtures are used as they are (npm run fixtures rebuilds them).',
    );
}

function step(name, cmd, args) {
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, {
    stdio: 'inherit',
    env: { ...process.env, FORCE_COLOR: process.stdout.isTTY ? '1' : '0' },
  });
  return r.status === 0;
}

/** A step that is one check of its own (typecheck, build). */
function check(name, cmd, args) {
  const ok = step(name, cmd, args);
  if (ok) totals.passed++;
  else {
    totals.failed++;
    failures.push(name);
  }
  return ok;
}

/** A vitest run: its own tests are counted from its JSON report. */
function vitest(name, extraArgs) {
  const out = join(RESULTS, `${name}.json`);
  rmSync(out, { force: true });
  const ok = step(name, 'npx', [
    'vitest',
    'run',
    ...extraArgs,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${out}`,
  ]);
  if (!existsSync(out)) {
    totals.failed++;
    failures.push(`${name} (no report: the runner itself failed)`);
    return;
  }
  const report = JSON.parse(readFileSync(out, 'utf8'));
  totals.passed += report.numPassedTests;
  totals.failed += report.numFailedTests;
  totals.skipped += report.numPendingTests + report.numTodoTests;
  if (report.numFailedTests > 0) failures.push(`${name}: ${report.numFailedTests} failed`);
  else if (!ok) {
    totals.failed++;
    failures.push(`${name} (exited non-zero: a suite failed to load)`);
  }
}

checkPrerequisites();
mkdirSync(RESULTS, { recursive: true });
check('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']);
check('typecheck (service worker)', 'npx', ['tsc', '-p', 'tsconfig.sw.json', '--noEmit']);
check('format and lint (biome)', 'npx', ['biome', 'check', '.']);
check('dependency rules (dependency-cruiser)', 'npm', ['run', '--silent', 'lint:deps']);
// The integration tests spawn bin/berth.js, which runs this build (dist-cli/).
check('build the CLI (esbuild)', 'npm', ['run', '--silent', 'build:cli']);
vitest('unit', []);
if (check('build', 'npm', ['run', 'build', '--silent'])) vitest('e2e', ['--config', 'vitest.e2e.config.ts']);
else failures.push('e2e (not run: the build failed)');

console.log('');
if (failures.length) console.log(`failed: ${failures.join('; ')}`);
const line = `${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`;
console.log(line);
process.exit(totals.failed ? 1 : 0);
