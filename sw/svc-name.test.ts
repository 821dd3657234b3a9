import { describe, expect, it } from 'vitest';
import { svcName } from './svc-name.ts';

const name = (path: string) => svcName(new URL(path, 'https://berth.example'));

describe('svcName', () => {
  it('is the first segment after /svc/, with or without a rest', () => {
    expect(name('/svc/hello')).toBe('hello');
    expect(name('/svc/hello/')).toBe('hello');
    expect(name('/svc/hello/a/b?x=1#f')).toBe('hello');
    expect(name('/svc/hello.v2_x-y/')).toBe('hello.v2_x-y');
  });

  it('is undefined for URLs that are not service URLs', () => {
    expect(name('/')).toBeUndefined();
    expect(name('/svc')).toBeUndefined();
    expect(name('/svc/')).toBeUndefined();
    expect(name('/svc//x')).toBeUndefined();
    expect(name('/svcx/hello')).toBeUndefined();
    expect(name('/app/svc/hello')).toBeUndefined();
    expect(name('/SVC/hello')).toBeUndefined();
  });

  it('resolves dot segments first, as the browser does', () => {
    expect(name('/svc/../index.html')).toBeUndefined();
    expect(name('/other/../svc/hello/')).toBe('hello');
  });

  it('decodes percent-encoding, an encoded slash included', () => {
    expect(name('/svc/a%20b/')).toBe('a b');
    expect(name('/svc/a%2Fb/c')).toBe('a/b');
  });

  it('keeps a name that is not valid percent-encoding as it stands instead of throwing', () => {
    expect(name('/svc/%E0%A4%A/')).toBe('%E0%A4%A');
    expect(name('/svc/%zz')).toBe('%zz');
  });
});
