import { describe, expect, it } from 'vitest';
import { corsSeen, explainCors } from './cors-explain.ts';

const page = 'http://127.0.0.1:5173';
const seen = (host: string, h: Record<string, string>) => corsSeen(host, new Headers(h));

describe('explainCors', () => {
  it('names what the headers refuse, host by host', () => {
    expect(explainCors([seen('r.example', {})], page, false)).toBe(
      'r.example sends no CORS headers (no Access-Control-Allow-Origin)',
    );
    expect(
      explainCors([seen('r.example', { 'access-control-allow-origin': 'https://other.example' })], page, false),
    ).toBe('r.example allows cross-origin requests only from https://other.example');
    // The trap GOTCHAS records: Allow-Origin alone fails the preflight for Accept.
    expect(explainCors([seen('r.example', { 'access-control-allow-origin': '*' })], page, false)).toBe(
      "r.example's CORS headers do not allow the Accept header berth sends (Access-Control-Allow-Headers: none)",
    );
    expect(
      explainCors(
        [seen('r.example', { 'access-control-allow-origin': '*', 'access-control-allow-headers': 'Accept, Range' })],
        page,
        true,
      ),
    ).toBe(
      "r.example's CORS headers do not allow the Authorization header berth sends (Access-Control-Allow-Headers: Accept, Range)",
    );
    // The registry is fine; its token service is not.
    expect(
      explainCors(
        [
          seen('r.example', {
            'access-control-allow-origin': page,
            'access-control-allow-headers': 'Authorization, Accept',
          }),
          seen('auth.example', {}),
        ],
        page,
        true,
      ),
    ).toBe('auth.example sends no CORS headers (no Access-Control-Allow-Origin)');
    expect(
      explainCors(
        [seen('r.example', { 'access-control-allow-origin': '*', 'access-control-allow-headers': '*' })],
        page,
        true,
      ),
    ).toMatch(/although its CORS headers look allowed/);
  });
});
