import { describe, expect, it } from 'vitest';
import { toResponse } from './svc-handler.ts';

const head = (status: number, headers: [string, string][] = [], statusText = '') => ({ status, statusText, headers });

describe('toResponse', () => {
  it('carries status, status text, headers and body, and names the runner', async () => {
    const r = toResponse(head(201, [['content-type', 'text/plain']], 'Created'), 'made', 'worker');
    expect(r.status).toBe(201);
    expect(r.statusText).toBe('Created');
    expect(r.headers.get('content-type')).toBe('text/plain');
    expect(r.headers.get('x-berth-runner')).toBe('worker');
    expect(await r.text()).toBe('made');
  });

  it('does not let the program choose the runner header', () => {
    const r = toResponse(head(200, [['X-Berth-Runner', 'worker']]), 'x', 'service-worker');
    expect(r.headers.get('x-berth-runner')).toBe('service-worker');
  });

  it.each([204, 205, 304])('drops the body of a %i (a Response cannot have one)', async (status) => {
    const r = toResponse(head(status), 'ignored', 'worker');
    expect(r.status).toBe(status);
    expect(r.body).toBeNull();
  });

  it.each([100, 101, 199, 0])('answers an informational or bogus status %i with 502 and no body', (status) => {
    const r = toResponse(head(status), 'ignored', 'service-worker');
    expect(r.status).toBe(502);
    expect(r.body).toBeNull();
  });
});
