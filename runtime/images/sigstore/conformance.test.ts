// berth's verifier against the DSSE cases of the Sigstore conformance suite
// (github.com/sigstore/sigstore-conformance, test/assets/bundle-verify, copied as data into
// tests/fixtures/sigstore/conformance): real bundles from the public-good and staging instances,
// Rekor v1 and v2, with and without RFC 3161 timestamps, custom trusted roots. A case whose name
// ends in `_fail` must be refused, every other accepted, as the suite's harness expects: the
// suite's identity, the case's trusted_root.json or else the public-good root, and the statement's
// subject must be the SHA-256 of the case's artifact (else a.txt).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BundleError, verifyBundle } from './bundle.ts';
import { publicGoodTrustedRoot } from './public-good.ts';
import { parseTrustedRoot } from './trusted-root.ts';

const dir = new URL('../../../tests/fixtures/sigstore/conformance/', import.meta.url);
const IDENTITY = {
  issuer: 'https://token.actions.githubusercontent.com',
  subject:
    'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main',
};
const cases = readdirSync(dir, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

async function verifyCase(name: string): Promise<void> {
  const at = (f: string) => new URL(`${name}/${f}`, dir);
  const root = existsSync(at('trusted_root.json'))
    ? parseTrustedRoot(readFileSync(at('trusted_root.json'), 'utf8'), `${name}'s trusted root`)
    : publicGoodTrustedRoot();
  const artifact = readFileSync(existsSync(at('artifact')) ? at('artifact') : new URL('a.txt', dir));
  const { statement } = await verifyBundle(new Uint8Array(readFileSync(at('bundle.sigstore.json'))), {
    trustedRoot: root,
    identities: [IDENTITY],
  });
  const sha256 = createHash('sha256').update(artifact).digest('hex');
  const subjects = (statement as { subject?: { digest?: { sha256?: string } }[] }).subject ?? [];
  if (!subjects.some((s) => s.digest?.sha256 === sha256))
    throw new BundleError(`its statement does not name the artifact ${sha256}`);
}

/** Why each failing case must be refused (its README's reason, in berth's words). */
const REASONS: Record<string, RegExp> = {
  'dsse-invalid-sig_fail': /signature does not verify with its certificate's key/,
  'dsse-mismatch-envelope_fail': /log entry records another payload/,
  'dsse-mismatch-sig_fail': /log entry records another signature/,
  'intoto-expired-certificate_fail':
    /its certificate was valid from 2030-01-01 .* but the log recorded the signature at 2023/,
  'intoto-log-entry-mismatch_fail': /log entry records another signature/,
  'intoto-missing-inclusion-proof_fail': /has no inclusion proof/,
  'intoto-set-outside-signing-cert-validity_fail': /but the log recorded the signature at 2023-02-02/,
  'intoto-tsa-timestamp-outside-cert-validity_fail': /but timestamp authority .* saw the signature at 2023-02-02/,
  'rekor2-dsse-invalid-sig_fail': /signature does not verify with its certificate's key/,
  'rekor2-dsse-mismatch-envelope_fail': /log entry records another envelope/,
  'rekor2-dsse-mismatch-sig_fail': /log entry records another signature/,
};

describe('the Sigstore conformance suite, DSSE bundles', () => {
  expect(cases.length).toBeGreaterThanOrEqual(14);
  it.each(cases)('%s', async (name) => {
    const result = await verifyCase(name).then(
      () => 'accepted',
      (e) => {
        // A refusal is always a BundleError saying why, never another error.
        expect(e, String(e)).toBeInstanceOf(BundleError);
        return `refused: ${(e as Error).message}`;
      },
    );
    if (name.endsWith('_fail')) {
      expect(result).toMatch(/^refused: /);
      expect(result).toMatch(REASONS[name] ?? /no reason written for this case/);
    } else expect(result).toBe('accepted');
  });
});
