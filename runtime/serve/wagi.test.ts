import { describe, expect, it } from 'vitest';
import { wagiEnv } from './wagi.ts';

describe('wagiEnv', () => {
  it('sets the CGI/1.1 variables and HTTP_* headers, without credentials', () => {
    const env = wagiEnv(
      {
        method: 'POST',
        url: 'http://127.0.0.1:5173/svc/app/a/b?x=1',
        headers: [
          ['Content-Type', 'text/plain'],
          ['X-Trace-Id', 'abc'],
          ['Authorization', 'Bearer s'],
          ['Accept', 'a'],
          ['accept', 'b'],
        ],
        body: new Uint8Array(5),
      },
      '/svc/app',
    );
    expect(env).toMatchObject({
      GATEWAY_INTERFACE: 'CGI/1.1',
      REQUEST_METHOD: 'POST',
      SCRIPT_NAME: '/svc/app',
      PATH_INFO: '/a/b',
      QUERY_STRING: 'x=1',
      SERVER_NAME: '127.0.0.1',
      SERVER_PORT: '5173',
      CONTENT_TYPE: 'text/plain',
      CONTENT_LENGTH: '5',
      HTTP_X_TRACE_ID: 'abc',
      HTTP_ACCEPT: 'a, b',
      HTTP_HOST: '127.0.0.1:5173',
      X_FULL_URL: 'http://127.0.0.1:5173/svc/app/a/b?x=1',
    });
    expect(env.HTTP_AUTHORIZATION).toBeUndefined();
  });
});
