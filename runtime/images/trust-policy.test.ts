import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseReference, type RegistryClient } from '../registry/index.ts';
import { importCosignPublicKey } from './cosign-public-key.ts';
import { checkPolicy, checkRegistryAllowed, matchesRegistryScope, requiresSignature } from './trust-policy.ts';

const ref = parseReference;
const DIGEST = `sha256:${'a'.repeat(64)}` as const;
/** A client that must not be used. */
const noNetwork = new Proxy(
  {},
  {
    get: (_t, p) => () => {
      throw new Error(`unexpected registry call ${String(p)}`);
    },
  },
) as unknown as RegistryClient;

describe('trust policy', () => {
  it('matches registry hosts and host/repository prefixes', () => {
    expect(matchesRegistryScope(['ghcr.io'], ref('ghcr.io/acme/app:1'))).toBe(true);
    expect(matchesRegistryScope(['GHCR.io/'], ref('ghcr.io/acme/app:1'))).toBe(true);
    expect(matchesRegistryScope(['ghcr.io'], ref('ghcr.io.evil.example/acme/app'))).toBe(false);
    expect(matchesRegistryScope(['127.0.0.1:5000'], ref('127.0.0.1:5000/x'))).toBe(true);
    expect(matchesRegistryScope(['127.0.0.1:5000'], ref('127.0.0.1:5001/x'))).toBe(false);
    expect(matchesRegistryScope(['ghcr.io/acme'], ref('ghcr.io/acme/app'))).toBe(true);
    expect(matchesRegistryScope(['ghcr.io/acme/app'], ref(`ghcr.io/acme/app@${DIGEST}`))).toBe(true);
    expect(matchesRegistryScope(['ghcr.io/acme'], ref('ghcr.io/acme-evil/app'))).toBe(false);
    expect(matchesRegistryScope(['quay.io/acme'], ref('ghcr.io/acme/app'))).toBe(false);
    // Docker Hub under any of its names.
    expect(matchesRegistryScope(['index.docker.io'], ref('alpine'))).toBe(true);
    expect(matchesRegistryScope(['docker.io/library'], ref('alpine:3'))).toBe(true);
    expect(matchesRegistryScope([], ref('alpine'))).toBe(false);
  });

  it('refuses a registry not allowed, saying which are', () => {
    expect(() => checkRegistryAllowed({ allowedRegistries: ['ghcr.io'] }, ref('quay.io/a/b:1'))).toThrow(
      expect.objectContaining({
        code: 'permission-denied',
        message: 'quay.io/a/b:1 is refused by the trust policy: registry quay.io is not allowed (allowed: ghcr.io)',
      }),
    );
    expect(() => checkRegistryAllowed({ allowedRegistries: [] }, ref('ghcr.io/a'))).toThrow(/allowed: none/);
    expect(() => checkRegistryAllowed({}, ref('quay.io/a/b:1'))).not.toThrow();
  });

  it('requires signatures only where the policy says', async () => {
    const keys = ['unused'];
    expect(requiresSignature({}, ref('ghcr.io/a'))).toBe(false);
    expect(requiresSignature({ requireSignature: { keys } }, ref('ghcr.io/a'))).toBe(true);
    expect(requiresSignature({ requireSignature: { keys, registries: ['ghcr.io'] } }, ref('ghcr.io/a'))).toBe(true);
    expect(requiresSignature({ requireSignature: { keys, registries: ['ghcr.io'] } }, ref('quay.io/a'))).toBe(false);
    // No signature needed: the registry is not asked anything.
    await checkPolicy(
      { allowedRegistries: ['quay.io'], requireSignature: { keys, registries: ['ghcr.io'] } },
      ref('quay.io/a'),
      DIGEST,
      noNetwork,
    );
    await expect(
      checkPolicy({ requireSignature: { keys: [] } }, ref('quay.io/a'), DIGEST, noNetwork),
    ).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringContaining('no trusted public key') });
  });

  it('imports P-256 SPKI PEM keys and refuses others by name', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    }) as string;
    await expect(importCosignPublicKey(ec)).resolves.toMatchObject({
      type: 'public',
      algorithm: { name: 'ECDSA', namedCurve: 'P-256' },
    });
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      type: 'spki',
      format: 'pem',
    }) as string;
    await expect(importCosignPublicKey(rsa, 'trusted key 2')).rejects.toMatchObject({
      code: 'invalid-argument',
      message: expect.stringContaining('trusted key 2 is not an ECDSA P-256 public key'),
    });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({
      type: 'spki',
      format: 'pem',
    }) as string;
    await expect(importCosignPublicKey(p384)).rejects.toMatchObject({ code: 'invalid-argument' });
    await expect(
      importCosignPublicKey('-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----'),
    ).rejects.toThrow(/not a PEM "PUBLIC KEY" block/);
  });
});
