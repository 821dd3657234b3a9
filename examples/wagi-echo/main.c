/* wagi-echo: a WAGI (CGI/1.1) service. Echoes what it was asked: method, PATH_INFO, QUERY_STRING,
 * a few headers and the body. /redirect answers with a Location, /missing with Status 404, and
 * /echo sends the request body back byte for byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *env(const char *name) {
  const char *v = getenv(name);
  return v ? v : "";
}

int main(void) {
  const char *path = env("PATH_INFO");
  if (strcmp(path, "/redirect") == 0) {
    printf("Location: /svc/wagi-echo/landed\r\n\r\n");
    return 0;
  }
  if (strcmp(path, "/missing") == 0) {
    printf("Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nnothing at %s\n", path);
    return 0;
  }
  if (strcmp(path, "/echo") == 0) {
    printf("Content-Type: application/octet-stream\r\n\r\n");
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) fwrite(buf, 1, n, stdout);
    return 0;
  }
  printf("Content-Type: text/plain; charset=utf-8\r\nX-Wagi: yes\r\n\r\n");
  printf("method=%s\npath=%s\nquery=%s\nscript=%s\ncontent-type=%s\nuser-agent-set=%s\n", env("REQUEST_METHOD"), path,
         env("QUERY_STRING"), env("SCRIPT_NAME"), env("CONTENT_TYPE"), *env("HTTP_USER_AGENT") ? "yes" : "no");
  printf("body=");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, stdin)) > 0) fwrite(buf, 1, n, stdout);
  printf("\n");
  return 0;
}
