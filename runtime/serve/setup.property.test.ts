// Properties of setup files and the services seeds and setups declare (fast-check): a generated
// well-formed setup parses back to itself and every service passes the check unchanged; any JSON,
// and setup text with bytes changed, end in services or berth's RuntimeError; a service that
// passes the check has the shape berth binds (names, lists and limits of the right kinds).
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { isRuntimeError } from '../core/index.ts';
import { checkSeedService, parseSeedManifest, type SeedService } from './seed.ts';
import { parseSetup } from './setup-archive.ts';

const enc = new TextEncoder();
const name = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/);
const service: fc.Arbitrary<SeedService> = fc.record(
  {
    name,
    image: fc.stringMatching(/^localhost\/[a-z]{1,8}:[0-9]{1,3}$/),
    mode: fc.constantFrom('raw', 'wagi', 'wasi-http'),
    volumes: fc.array(
      fc.record({
        name: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/),
        path: fc.stringMatching(/^\/[a-z]{1,8}$/),
      }),
      { maxLength: 3 },
    ),
    env: fc.dictionary(fc.stringMatching(/^[A-Z_]{1,8}$/), fc.string({ maxLength: 10 }), { maxKeys: 3 }),
    args: fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
    limits: fc.record(
      { timeoutMs: fc.integer({ min: 1, max: 3_600_000 }), memoryBytes: fc.integer({ min: 1, max: 2 ** 32 }) },
      { requiredKeys: [] },
    ),
    trusted: fc.boolean(),
  },
  { requiredKeys: ['name', 'image'] },
) as fc.Arbitrary<SeedService>;

function servicesOf(bytes: Uint8Array): SeedService[] {
  return parseSetup(bytes).services.map((s) => checkSeedService(s));
}

/** What berth binds relies on these kinds; a checked service must have them. */
function expectBindable(s: SeedService) {
  expect(typeof s.name).toBe('string');
  expect(typeof s.image).toBe('string');
  if (s.volumes !== undefined) expect(Array.isArray(s.volumes)).toBe(true);
  if (s.args !== undefined) expect(Array.isArray(s.args)).toBe(true);
  for (const v of [s.env, s.limits])
    if (v !== undefined) expect(typeof v === 'object' && v !== null && !Array.isArray(v)).toBe(true);
}

describe('setup files', () => {
  test.prop([fc.array(service, { maxLength: 4 })], { numRuns: 200 })(
    'a well-formed setup parses back to itself',
    (services) => {
      expect(servicesOf(enc.encode(JSON.stringify({ version: 1, services })))).toEqual(services);
    },
  );

  const anyService = fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.record({
      name: fc.oneof(name, fc.jsonValue({ maxDepth: 1 })),
      image: fc.oneof(fc.constant('localhost/a:1'), fc.jsonValue({ maxDepth: 1 })),
      volumes: fc.jsonValue({ maxDepth: 2 }),
      env: fc.jsonValue({ maxDepth: 2 }),
      args: fc.jsonValue({ maxDepth: 2 }),
      limits: fc.jsonValue({ maxDepth: 2 }),
      mode: fc.jsonValue({ maxDepth: 1 }),
    }),
  );
  test.prop(
    [
      fc.oneof(
        fc.jsonValue({ maxDepth: 4 }),
        fc.record({ version: fc.constant(1), services: fc.array(anyService, { maxLength: 3 }) }),
      ),
    ],
    {
      numRuns: 400,
    },
  )('any JSON: bindable services or RuntimeError', (value) => {
    try {
      for (const s of servicesOf(enc.encode(JSON.stringify(value) ?? 'null'))) expectBindable(s);
    } catch (e) {
      expect(isRuntimeError(e), String(e)).toBe(true);
    }
  });

  test.prop(
    [
      fc.array(service, { minLength: 1, maxLength: 3 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 127 })), { minLength: 1, maxLength: 6 }),
    ],
    {
      numRuns: 300,
    },
  )('setup text with bytes changed: bindable services or RuntimeError', (services, edits) => {
    const bytes = enc.encode(JSON.stringify({ version: 1, services }));
    for (const [at, v] of edits) bytes[at % bytes.length] = v;
    try {
      for (const s of servicesOf(bytes)) expectBindable(s);
    } catch (e) {
      expect(isRuntimeError(e), String(e)).toBe(true);
    }
  });

  const seedList = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.record(
      {
        version: fc.oneof(fc.constant(1), fc.jsonValue({ maxDepth: 1 })),
        images: fc.oneof(
          fc.array(
            fc.record({
              layout: fc.oneof(fc.constant('a/'), fc.jsonValue({ maxDepth: 1 })),
              ref: fc.constant('localhost/a:1'),
            }),
            { maxLength: 2 },
          ),
          fc.jsonValue({ maxDepth: 2 }),
        ),
        services: fc.oneof(fc.array(service, { maxLength: 2 }), fc.jsonValue({ maxDepth: 2 })),
        trust: fc.oneof(
          fc.record({ allowedRegistries: fc.array(fc.string(), { maxLength: 2 }) }),
          fc.record({ requireSignature: fc.record({ keys: fc.jsonValue({ maxDepth: 1 }) }) }),
          fc.record({
            requireSignature: fc.record(
              {
                identities: fc.oneof(
                  fc.array(fc.record({ issuer: fc.string(), subjectRegExp: fc.string() }, { requiredKeys: [] }), {
                    maxLength: 2,
                  }),
                  fc.jsonValue({ maxDepth: 2 }),
                ),
                trustedRoot: fc.oneof(fc.string(), fc.jsonValue({ maxDepth: 2 })),
              },
              { requiredKeys: [] },
            ),
          }),
          fc.jsonValue({ maxDepth: 2 }),
        ),
      },
      { requiredKeys: ['version'] },
    ),
  );
  test.prop([seedList], { numRuns: 400 })('any JSON as a seed list: a checked list or RuntimeError', (value) => {
    try {
      const seed = parseSeedManifest(enc.encode(JSON.stringify(value) ?? 'null'), 'https://example/seed.json');
      expect(Array.isArray(seed.images)).toBe(true);
      for (const i of seed.images) expect([typeof i.layout, typeof i.ref]).toEqual(['string', 'string']);
      for (const s of seed.services ?? []) expectBindable(s);
      const sig = seed.trust?.requireSignature;
      if (sig) {
        // Keys or identities, each a list of the right shape; a trusted root kept as text.
        expect(sig.keys !== undefined || sig.identities !== undefined).toBe(true);
        if (sig.keys !== undefined) expect(sig.keys.every((k) => typeof k === 'string')).toBe(true);
        for (const i of sig.identities ?? []) {
          for (const v of Object.values(i)) expect(typeof v).toBe('string');
          expect('issuer' in i || 'issuerRegExp' in i).toBe(true);
          expect('subject' in i || 'subjectRegExp' in i).toBe(true);
        }
        if (sig.trustedRoot !== undefined) expect(typeof sig.trustedRoot).toBe('string');
      }
    } catch (e) {
      expect(isRuntimeError(e), String(e)).toBe(true);
    }
  });
});
