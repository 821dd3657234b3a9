// Properties of image references (fast-check): a reference berth formats parses back to itself,
// and any string at all either parses or is refused with berth's RuntimeError, nothing else.
import { fc, test } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { RuntimeError } from '../core/index.ts';
import { formatReference, parseReference } from './reference.ts';

const component = fc.stringMatching(/^[a-z0-9]{1,8}(?:(?:[._]|__|-{1,2})[a-z0-9]{1,8}){0,2}$/);
const host = fc.oneof(
  fc.constantFrom('docker.io', 'ghcr.io', 'localhost', 'localhost:5000', '127.0.0.1:5000', '[::1]:5000'),
  fc.stringMatching(/^[a-z0-9]{1,10}(?:\.[a-z0-9]{1,10}){1,3}(?::[0-9]{1,5})?$/),
);
const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,40}$/);
const digest = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`);
const reference = fc
  .record({
    registry: host,
    repository: fc.array(component, { minLength: 1, maxLength: 4 }).map((c) => c.join('/')),
    tag: fc.option(tag, { nil: undefined }),
    digest: fc.option(digest, { nil: undefined }),
  })
  .map(
    ({ registry, repository, tag, digest }) =>
      `${registry}/${repository}${tag ? `:${tag}` : ''}${digest ? `@${digest}` : ''}`,
  )
  .filter((s) => s.length < 250);

describe('image references', () => {
  test.prop([reference], { numRuns: 300 })('a formatted reference parses back to itself', (s) => {
    const parsed = parseReference(s);
    expect(parseReference(formatReference(parsed))).toEqual(parsed);
  });

  test.prop(
    [
      fc.oneof(
        fc.string(),
        fc.string({ unit: 'binary' }),
        reference.map((r) => r.replace(/[:/@]/, '')),
      ),
    ],
    {
      numRuns: 500,
    },
  )('any string parses or is refused with RuntimeError', (s) => {
    try {
      const parsed = parseReference(s);
      expect(parseReference(formatReference(parsed))).toEqual(parsed);
    } catch (e) {
      expect(e).toBeInstanceOf(RuntimeError);
      expect((e as RuntimeError).code).toBe('invalid-argument');
    }
  });
});
