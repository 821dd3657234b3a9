/* hello-web-db: the article's example service, in C.
 * Reads a raw HTTP request on stdin, counts hits in /data/counter.json and answers
 * "hello from wasm, hits=N" as a raw HTTP/1.1 response on stdout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static unsigned long long load_hits(void) {
  FILE *f = fopen("/data/counter.json", "r");
  if (!f) return 0;
  char buf[256];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  const char *p = strstr(buf, "\"hits\"");
  if (!p) return 0;
  p = strchr(p, ':');
  return p ? strtoull(p + 1, NULL, 10) : 0;
}

static int save_hits(unsigned long long hits) {
  if (mkdir("/data", 0755) != 0 && errno != EEXIST) return -1;
  FILE *f = fopen("/data/counter.json", "w");
  if (!f) return -1;
  fprintf(f, "{\n  \"hits\": %llu\n}", hits);
  return fclose(f);
}

int main(void) {
  /* Drain the request: the demo answers every request the same way. */
  char chunk[4096];
  while (fread(chunk, 1, sizeof chunk, stdin) > 0) {
  }

  unsigned long long hits = load_hits() + 1;
  if (save_hits(hits) != 0) {
    fprintf(stderr, "hello-web-db: cannot save /data/counter.json: %s\n", strerror(errno));
    return 1;
  }

  char body[64];
  int len = snprintf(body, sizeof body, "hello from wasm, hits=%llu\n", hits);
  printf("HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: text/plain\r\n\r\n%s", len, body);
  return 0;
}
