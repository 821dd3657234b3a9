// poll_oneoff and fd_read on stdin fed by a pull source that sometimes has nothing yet.
import { describe, expect, it } from 'vitest';
import { runFixture } from '../../tests/fixtures/wasi/run-fixture.ts';

describe('stdin readiness with a pull source', () => {
  it('reports FD_READ only when the source has bytes or ended, EAGAIN for NONBLOCK', () => {
    const answers: (string | null)[] = ['', '', '', 'abc', null];
    const enc = new TextEncoder();
    let asked = 0;
    const r = runFixture('poll-stdin', {
      stdin: () => {
        const a = answers[Math.min(asked++, answers.length - 1)];
        return a === null ? null : enc.encode(a!);
      },
    });
    expect(r.stdout.split('\n')).toEqual([
      'nothing yet, clock 0: rc=0 nev=1 user=22 type=0 nbytes=0 flags=0',
      'nonblocking read: -1 EAGAIN',
      'waits for bytes: rc=0 nev=1 user=11 type=1 nbytes=3 flags=0',
      'read: 3 abc',
      'end of input: rc=0 nev=1 user=11 type=1 nbytes=0 flags=1',
      'read at end: 0',
      '',
    ]);
    expect(asked).toBe(5);
  });
  it('reports bytes stdin as ready with what is left', () => {
    const r = runFixture('poll-stdin', { stdin: new TextEncoder().encode('xy') });
    expect(r.stdout.split('\n').slice(0, 2)).toEqual([
      'nothing yet, clock 0: rc=0 nev=2 user=11 type=1 nbytes=2 flags=0',
      'nonblocking read: 2 other',
    ]);
  });
});
