// The layering of berth (README, "How it fits together"): which folder may import which, and no
// cycles anywhere. `npm test` runs `npm run lint:deps`, which fails on any violation.
const runtime = (...dirs) => `^runtime/(${dirs.join('|')})/`;
// Test files beside the code may use the shared suites and helpers in tests/, and the in-memory tree.
const notTest = '\\.test\\.ts$';

/** A folder of runtime/ and the runtime folders it may import. */
const layers = {
  core: [],
  registry: ['core'],
  content: ['core'],
  vfs: ['core'],
  wasi: ['core'],
  wasm: ['core'],
  component: ['core', 'vfs', 'wasi', 'wasm'],
  layers: ['core', 'content'],
  images: ['core', 'content', 'registry', 'layers', 'vfs'],
  run: ['core', 'content', 'registry', 'images', 'layers', 'vfs', 'wasi', 'wasm', 'component'],
  serve: ['core', 'content', 'registry', 'images', 'layers', 'vfs', 'wasi', 'wasm', 'run', 'component'],
  protocol: ['core', 'run', 'serve'],
};
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle makes load order matter and rooms inseparable.',
      from: {},
      to: { circular: true },
    },
    ...Object.entries(layers).map(([dir, allowed]) => ({
      name: `runtime-${dir}-layering`,
      severity: 'error',
      comment: `runtime/${dir} may import only ${allowed.length ? allowed.map((d) => `runtime/${d}`).join(', ') : 'nothing of berth'}.`,
      from: { path: `^runtime/${dir}/`, pathNot: notTest },
      to: {
        path: `^(runtime|app|sw|cli|tests|bench|examples|scripts)/`,
        pathNot: allowed.length ? [runtime(dir), runtime(...allowed)] : [runtime(dir)],
      },
    })),
    {
      name: 'runtime-tests-use-suites-only',
      severity: 'error',
      comment: 'A test beside runtime code may use the shared suites and helpers of tests/, never a front end.',
      from: { path: '^runtime/.+\\.test\\.ts$' },
      to: { path: '^(app|sw|cli|bench|examples|scripts)/' },
    },
    {
      name: 'front-ends-are-leaves',
      severity: 'error',
      comment: 'Nothing but tests and benchmarks imports app/, sw/ or cli/; front ends do not import each other.',
      from: { path: '^(runtime|app|sw|cli|examples|scripts)/' },
      to: { path: '^(app|sw|cli)/', pathNot: '^$1/' },
    },
    {
      name: 'no-tests-in-shipped-code',
      severity: 'error',
      comment: 'Shipped code does not import tests or benchmarks.',
      from: { path: '^(runtime|app|sw|cli|examples|scripts)/', pathNot: notTest },
      to: { path: '^(tests|bench)/' },
    },
    // The JS sources of wasi:http test components import WIT interfaces (`wasi:...`), which
    // ComponentizeJS binds when it builds them.
    { name: 'no-unresolvable', severity: 'error', from: {}, to: { couldNotResolve: true, pathNot: '^wasi:' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|public|\\.test-results|test-results)/' },
    tsPreCompilationDeps: true,
    // TypeScript 7 has no compiler API for dependency-cruiser to use; swc parses .ts instead (it does not
    // tell type-only imports apart, so those count as edges too, which is stricter).
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
