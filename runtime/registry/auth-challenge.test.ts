import { describe, expect, it } from 'vitest';
import { parseAuthChallenge } from './auth-challenge.ts';

describe('parseAuthChallenge', () => {
  it('reads a Docker Hub bearer challenge, commas inside quotes included', () => {
    expect(
      parseAuthChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull,push"',
      ),
    ).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/alpine:pull,push',
      },
    });
  });
  it('reads basic, unquoted values and escapes', () => {
    expect(parseAuthChallenge('Basic realm="a \\"b\\""')).toEqual({ scheme: 'basic', params: { realm: 'a "b"' } });
    expect(parseAuthChallenge('Bearer realm=x, service=y')).toEqual({
      scheme: 'bearer',
      params: { realm: 'x', service: 'y' },
    });
  });
  it('gives undefined for no header', () => {
    expect(parseAuthChallenge(null)).toBeUndefined();
  });
});
