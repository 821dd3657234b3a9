import { describe, expect, it } from 'vitest';
import type { ImagePlan } from '../run/image-plan.ts';
import type { ServiceRecord } from '../serve/service-record.ts';
import type { ServeJob } from './jobs.ts';
import { MAX_KEPT, PlanKeeper, PlanSender } from './plan-relay.ts';

const plan = (image: string): ImagePlan =>
  ({ image: { digest: image }, layers: [{ diffId: image, index: new Uint8Array([1, 2, 3]), bytes: {} }] }) as never;

let n = 0;
const job = (image: string, p?: ImagePlan): ServeJob => ({
  kind: 'serve',
  id: `j${n++}`,
  service: 'svc',
  request: { method: 'GET', url: '/', headers: [], body: new Uint8Array() } as never,
  timeoutMs: 1000,
  prepared: { service: { name: 'svc', imageDigest: image } as ServiceRecord, ...(p ? { plan: p } : {}) },
});

/** One hop: what the sender posts, cloned as postMessage would, then filled by the receiver. */
function hop(sender: PlanSender, keeper: PlanKeeper, j: ServeJob): { posted: ServeJob; got: ServeJob } {
  const posted = structuredClone(sender.strip(j));
  return { posted, got: keeper.fill(posted) };
}

describe('plan relay', () => {
  it('sends a plan once per receiver, and the receiver puts it back in later jobs', () => {
    const sender = new PlanSender();
    const keeper = new PlanKeeper();
    const p = plan('sha256:a');
    const first = hop(sender, keeper, job('sha256:a', p));
    expect(first.posted.prepared?.plan).toEqual(p);
    const second = hop(sender, keeper, job('sha256:a', p));
    expect(second.posted.prepared).not.toHaveProperty('plan');
    expect(second.got.prepared?.plan).toBe(first.got.prepared?.plan);
    expect(second.got.prepared?.service?.imageDigest).toBe('sha256:a');
  });

  it('sends the plan again when the sender has a new one for the image (reloaded: TTL, blob deletion)', () => {
    const sender = new PlanSender();
    const keeper = new PlanKeeper();
    hop(sender, keeper, job('sha256:a', plan('sha256:a')));
    const reloaded = plan('sha256:a');
    reloaded.layers[0].index = new Uint8Array([9]);
    const again = hop(sender, keeper, job('sha256:a', reloaded));
    expect(again.posted.prepared?.plan?.layers[0].index).toEqual(new Uint8Array([9]));
    expect(hop(sender, keeper, job('sha256:a', reloaded)).got.prepared?.plan?.layers[0].index).toEqual(
      new Uint8Array([9]),
    );
  });

  it('keeps plans per image, and each receiver gets its own first copy', () => {
    const a = plan('sha256:a');
    const b = plan('sha256:b');
    const sender1 = new PlanSender();
    const sender2 = new PlanSender();
    const keeper1 = new PlanKeeper();
    const keeper2 = new PlanKeeper();
    hop(sender1, keeper1, job('sha256:a', a));
    hop(sender1, keeper1, job('sha256:b', b));
    expect(hop(sender1, keeper1, job('sha256:a', a)).got.prepared?.plan?.image.digest).toBe('sha256:a');
    expect(hop(sender1, keeper1, job('sha256:b', b)).got.prepared?.plan?.image.digest).toBe('sha256:b');
    expect(hop(sender2, keeper2, job('sha256:a', a)).posted.prepared?.plan).toEqual(a);
  });

  it('a receiver that never got the plan passes the job on without one (the worker loads it itself)', () => {
    const sender = new PlanSender();
    const p = plan('sha256:a');
    hop(sender, new PlanKeeper(), job('sha256:a', p));
    const fresh = new PlanKeeper();
    const { got } = hop(sender, fresh, job('sha256:a', p));
    expect(got.prepared).not.toHaveProperty('plan');
  });

  it('sender and receiver forget the same oldest plan, so the sender sends it again', () => {
    const sender = new PlanSender();
    const keeper = new PlanKeeper();
    const plans = Array.from({ length: MAX_KEPT + 1 }, (_, i) => plan(`sha256:${i}`));
    for (const [i, p] of plans.entries()) hop(sender, keeper, job(`sha256:${i}`, p));
    const oldest = hop(sender, keeper, job('sha256:0', plans[0]));
    expect(oldest.posted.prepared?.plan).toEqual(plans[0]);
    expect(oldest.got.prepared?.plan?.image.digest).toBe('sha256:0');
    const newest = hop(sender, keeper, job(`sha256:${MAX_KEPT}`, plans[MAX_KEPT]));
    expect(newest.posted.prepared).not.toHaveProperty('plan');
    expect(newest.got.prepared?.plan?.image.digest).toBe(`sha256:${MAX_KEPT}`);
  });

  it('leaves jobs without a service or plan as they are', () => {
    const sender = new PlanSender();
    const keeper = new PlanKeeper();
    const bare: ServeJob = { ...job('sha256:a'), prepared: {} };
    expect(hop(sender, keeper, bare).got).toEqual(bare);
    expect(hop(sender, keeper, job('sha256:a')).got.prepared).not.toHaveProperty('plan');
  });
});
