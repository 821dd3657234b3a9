// A /svc job carries the image plan the SW loaded (the image record, each layer's packed index and a
// Blob handle of its bytes), so the worker that runs it reads nothing from the store. Cloned on every
// hop of every request it cost more than the run of a small program: the index bytes are copied and
// each Blob handle is registered again, SW -> window and again window -> worker. Now each hop sends a
// plan once: the sender remembers which plan object it sent a receiver for an image, and sends a job
// without it while that is still its plan; the receiver keeps what it got and puts it back.
//
// Freshness stays the sender's: the SW's PlanCache makes a new plan object when it reloads one (its
// TTL, a blob deletion), which differs from the one sent, so the new one goes out. A receiver that
// lacks the plan (it forgot it: `MAX_KEPT`) sends the job on without one, and the worker then loads
// the plan from the store itself, as it does for any job without one.
import type { ImagePlan } from '../run/image-plan.ts';
import type { ServeJob } from './jobs.ts';

/** Plans a receiver keeps (one per image served lately); the oldest is forgotten past this. */
export const MAX_KEPT = 32;

const imageOf = (job: ServeJob) => job.prepared?.service?.imageDigest;

/** The sending side of one hop to one receiver. */
export class PlanSender {
  private readonly sent = new Map<string, ImagePlan>();

  /** The job to post: without its plan when this receiver has that very plan already. */
  strip(job: ServeJob): ServeJob {
    const image = imageOf(job);
    const plan = job.prepared?.plan;
    if (!image || !plan) return job;
    if (this.sent.get(image) === plan) {
      const { plan: _, ...rest } = job.prepared!;
      return { ...job, prepared: rest };
    }
    this.sent.delete(image);
    this.sent.set(image, plan);
    if (this.sent.size > MAX_KEPT) this.sent.delete(this.sent.keys().next().value!);
    return job;
  }
}

/** The receiving side: keeps each plan that arrives, and fills it in where a job came without. */
export class PlanKeeper {
  private readonly kept = new Map<string, ImagePlan>();

  fill(job: ServeJob): ServeJob {
    const image = imageOf(job);
    if (!image || !job.prepared) return job;
    const plan = job.prepared.plan;
    if (plan) {
      this.kept.delete(image);
      this.kept.set(image, plan);
      if (this.kept.size > MAX_KEPT) this.kept.delete(this.kept.keys().next().value!);
      return job;
    }
    const kept = this.kept.get(image);
    return kept ? { ...job, prepared: { ...job.prepared, plan: kept } } : job;
  }
}
