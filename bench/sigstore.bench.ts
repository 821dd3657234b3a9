// What verifying a Sigstore bundle costs (runtime/images/sigstore), in Node: the real npm
// provenance bundle of tests/fixtures/sigstore (public-good Fulcio, CT log and Rekor) against the
// shipped root, and a test-world Rekor v2 bundle with an RFC 3161 timestamp. Floor, in the same
// run: the WebCrypto signature checks that verification cannot avoid, done alone with keys imported
// once (chain: 2 ECDSA; SCT, SET, checkpoint and DSSE: 1 each).
import { readFileSync } from 'node:fs';
import { verifyBundle } from '../runtime/images/sigstore/bundle.ts';
import { publicGoodTrustedRoot } from '../runtime/images/sigstore/public-good.ts';
import { parseTrustedRoot } from '../runtime/images/sigstore/trusted-root.ts';
import { signImageBundle, TestFulcio, TestRekor, TestTsa, trustedRoot } from '../tests/support/sigstore-world.ts';
import { percentile, type BenchRow } from './bench-table.ts';

const B = 'Sigstore bundle verification (Node, WebCrypto)';
const RUNS = 200;

async function median(f: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < 10; i++) await f(); // warm
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await f();
    times.push(performance.now() - t0);
  }
  return percentile(
    times.sort((a, b) => a - b),
    50,
  );
}

export async function run(): Promise<BenchRow[]> {
  const real = new Uint8Array(
    readFileSync(new URL('../tests/fixtures/sigstore/playwright-cli-0.1.1.provenance.sigstore.json', import.meta.url)),
  );
  const identity = {
    issuer: 'https://token.actions.githubusercontent.com',
    subject: 'https://github.com/microsoft/playwright-cli/.github/workflows/publish.yml@refs/tags/v0.1.1',
  };
  const realMs = await median(() =>
    verifyBundle(real, { trustedRoot: publicGoodTrustedRoot(), identities: [identity] }),
  );

  const fulcio = await TestFulcio.create();
  const rekor = await TestRekor.create('https://log2026-1.rekor.test', { v2: true });
  const tsa = await TestTsa.create();
  const me = {
    subject: 'https://github.com/acme/app/.github/workflows/r.yml@refs/heads/main',
    issuer: identity.issuer,
  };
  const v2 = new TextEncoder().encode(
    JSON.stringify(await signImageBundle(`sha256:${'ab'.repeat(32)}`, { fulcio, rekor }, me, { tsa })),
  );
  const v2Root = parseTrustedRoot(trustedRoot(fulcio, rekor, tsa));
  const v2Ms = await median(() => verifyBundle(v2, { trustedRoot: v2Root, identities: [me] }));

  // The floor: six P-256/P-384 ECDSA verifications with imported keys, as the real bundle needs.
  const algs = [
    { curve: 'P-384', hash: 'SHA-384' },
    { curve: 'P-384', hash: 'SHA-384' },
    { curve: 'P-256', hash: 'SHA-256' },
    { curve: 'P-256', hash: 'SHA-256' },
    { curve: 'P-256', hash: 'SHA-256' },
    { curve: 'P-256', hash: 'SHA-256' },
  ];
  const data = new Uint8Array(1500);
  const prepared = await Promise.all(
    algs.map(async ({ curve, hash }) => {
      const k = (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, false, [
        'sign',
        'verify',
      ])) as CryptoKeyPair;
      return { k, hash, sig: await crypto.subtle.sign({ name: 'ECDSA', hash }, k.privateKey, data) };
    }),
  );
  const floorMs = await median(async () => {
    for (const p of prepared) await crypto.subtle.verify({ name: 'ECDSA', hash: p.hash }, p.k.publicKey, p.sig, data);
  });
  return [
    {
      benchmark: B,
      subject: 'real npm provenance bundle (public-good)',
      metric: 'median',
      value: realMs,
      unit: 'ms',
      note: `${RUNS} runs; chain, SCT, SET, inclusion proof, checkpoint, DSSE, identity`,
    },
    {
      benchmark: B,
      subject: 'Rekor v2 + RFC 3161 bundle (test world)',
      metric: 'median',
      value: v2Ms,
      unit: 'ms',
      note: 'chain, SCT, proof, Ed25519 checkpoint, timestamp, DSSE',
    },
    {
      benchmark: B,
      subject: 'floor: 6 ECDSA verifications, keys imported once',
      metric: 'median',
      value: floorMs,
      unit: 'ms',
    },
    { benchmark: B, subject: 'real bundle / floor', metric: 'ratio', value: realMs / floorMs, unit: 'x' },
  ];
}
