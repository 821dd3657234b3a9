export * from './jobs.ts';
export * from './events.ts';
export * from './dispatch.ts';
export * from './plan-relay.ts';
