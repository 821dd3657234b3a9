import { describe, expect, it } from 'vitest';
import { formatReference, parseReference, registryApiHost } from './reference.ts';

const D = `sha256:${'ab'.repeat(32)}`;

describe('parseReference', () => {
  it.each([
    ['alpine', { registry: 'docker.io', repository: 'library/alpine', tag: 'latest' }],
    ['alpine:3.20', { registry: 'docker.io', repository: 'library/alpine', tag: '3.20' }],
    ['user/app', { registry: 'docker.io', repository: 'user/app', tag: 'latest' }],
    ['docker.io/library/alpine:1', { registry: 'docker.io', repository: 'library/alpine', tag: '1' }],
    ['index.docker.io/x/y', { registry: 'docker.io', repository: 'x/y', tag: 'latest' }],
    ['ghcr.io/owner/repo/sub:v1.2-rc_3', { registry: 'ghcr.io', repository: 'owner/repo/sub', tag: 'v1.2-rc_3' }],
    ['localhost/app', { registry: 'localhost', repository: 'app', tag: 'latest' }],
    ['localhost:5000/a/b:t', { registry: 'localhost:5000', repository: 'a/b', tag: 't' }],
    ['127.0.0.1:5000/a__b/c-d.e', { registry: '127.0.0.1:5000', repository: 'a__b/c-d.e', tag: 'latest' }],
    [`app@${D}`, { registry: 'docker.io', repository: 'library/app', digest: D }],
    [`reg.io/app:1@${D}`, { registry: 'reg.io', repository: 'app', tag: '1', digest: D }],
  ])('%s', (input, expected) => {
    expect(parseReference(input)).toEqual(expected);
  });

  it.each([
    '',
    'Alpine',
    'a//b',
    'a/',
    'app:',
    'app:-x',
    'app:.x',
    `app@sha256:${'a'.repeat(63)}`,
    'app@md5:abc',
    'a--/b',
    'reg.io:99999999/x',
    'has space',
    `x:${'t'.repeat(129)}`,
  ])('refuses %j', (input) => {
    expect(() => parseReference(input)).toThrowError(expect.objectContaining({ code: 'invalid-argument' }));
  });

  it('formats back, and maps Docker Hub to its API host', () => {
    expect(formatReference(parseReference('alpine'))).toBe('docker.io/library/alpine:latest');
    expect(formatReference(parseReference(`localhost:5000/x:1@${D}`))).toBe(`localhost:5000/x:1@${D}`);
    expect(registryApiHost('docker.io')).toBe('registry-1.docker.io');
    expect(registryApiHost('ghcr.io')).toBe('ghcr.io');
  });
});
