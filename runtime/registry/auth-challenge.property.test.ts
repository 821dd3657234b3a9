// Properties of WWW-Authenticate parsing (fast-check): challenges as registries write them parse to
// their parameters, quoted strings with escapes included; any header never throws.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { parseAuthChallenge } from './auth-challenge.ts';

const name = fc.stringMatching(/^[a-z][a-z0-9_-]{0,10}$/);
const value = fc.string({ maxLength: 40 }).filter((v) => !/[\r\n]/.test(v));
const quote = (v: string) => `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;

describe('WWW-Authenticate challenges', () => {
  test.prop(
    [
      fc.constantFrom('Bearer', 'Basic', 'bearer'),
      fc.uniqueArray(fc.tuple(name, value), { selector: ([k]) => k, maxLength: 5 }),
    ],
    {
      numRuns: 300,
    },
  )('parameters written as quoted strings come back as written', (scheme, params) => {
    const header = `${scheme} ${params.map(([k, v]) => `${k}=${quote(v)}`).join(',')}`;
    const c = parseAuthChallenge(header);
    expect(c?.scheme).toBe(scheme.toLowerCase());
    expect(c?.params).toEqual(Object.fromEntries(params));
  });

  test.prop([fc.string({ maxLength: 300 })], { numRuns: 1000 })(
    'any header parses or gives undefined, quickly',
    (h) => {
      const t0 = performance.now();
      const c = parseAuthChallenge(h);
      expect(performance.now() - t0).toBeLessThan(1000); // no catastrophic backtracking
      if (c) expect(typeof c.scheme).toBe('string');
    },
  );
});
