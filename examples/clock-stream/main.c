/* clock-stream: a raw-HTTP service whose body streams: it writes the head, then one line every
 * 300 ms (five in all), flushing each, so the client sees them arrive one by one. */
#include <stdio.h>
#include <time.h>

int main(void) {
  char buf[4096];
  /* The request is not needed: drain it so the writer never blocks. */
  while (fread(buf, 1, sizeof buf, stdin) > 0) {
  }
  printf("HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nCache-Control: no-store\r\n\r\n");
  fflush(stdout);
  for (int i = 1; i <= 5; i++) {
    struct timespec t = {0, 300 * 1000 * 1000};
    nanosleep(&t, NULL);
    printf("tick %d\n", i);
    fflush(stdout);
  }
  return 0;
}
