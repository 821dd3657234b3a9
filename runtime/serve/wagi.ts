// The WAGI bridge (CGI/1.1 as WAGI runs it): request metadata in the environment, the body on
// stdin, CGI headers then the body on stdout (parsed by CgiResponseParser).
import type { HttpRequestData } from './raw-http.ts';

export function wagiEnv(req: HttpRequestData, scriptName: string): Record<string, string> {
  const url = new URL(req.url);
  const pathInfo = url.pathname.startsWith(scriptName) ? url.pathname.slice(scriptName.length) : url.pathname;
  const header = (n: string) => req.headers.find(([k]) => k.toLowerCase() === n)?.[1];
  const env: Record<string, string> = {
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_SOFTWARE: 'berth',
    SERVER_PROTOCOL: 'HTTP/1.1',
    SERVER_NAME: url.hostname,
    SERVER_PORT: url.port || (url.protocol === 'https:' ? '443' : '80'),
    REQUEST_METHOD: req.method,
    SCRIPT_NAME: scriptName,
    PATH_INFO: pathInfo,
    PATH_TRANSLATED: pathInfo,
    QUERY_STRING: url.search.replace(/^\?/, ''),
    REMOTE_ADDR: '127.0.0.1',
    REMOTE_HOST: 'localhost',
    REMOTE_USER: '',
    AUTH_TYPE: '',
    CONTENT_TYPE: header('content-type') ?? '',
    CONTENT_LENGTH: req.body ? String(req.body.length) : '0',
    X_FULL_URL: url.href,
    X_MATCHED_ROUTE: `${scriptName}/...`,
    X_RAW_PATH_INFO: pathInfo,
  };
  for (const [k, v] of req.headers) {
    const name = k.toLowerCase();
    // Credentials are not passed to CGI scripts (RFC 3875 4.1.18); length and type have their own variables.
    if (
      name === 'authorization' ||
      name === 'proxy-authorization' ||
      name === 'content-length' ||
      name === 'content-type'
    )
      continue;
    const key = `HTTP_${name.toUpperCase().replace(/-/g, '_')}`;
    env[key] = env[key] ? `${env[key]}, ${v}` : v;
  }
  if (!env.HTTP_HOST) env.HTTP_HOST = url.host;
  return env;
}
