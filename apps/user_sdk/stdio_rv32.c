/* On the rv32 device a user app's stdout and stderr become lines of its log call (as the host device logs a
 * user app's output): picolibc's tiny stdio writes through one stream whose put() gathers a line. A line
 * longer than a log message is sent in pieces, never cut. */
#include <stdio.h>

#include "privota/user.h"

static char g_line[PRIVOTA_MAX_STRING + 1];
static size_t g_used;

static int flush_line(FILE* stream) {
  (void)stream;
  if (g_used == 0) return 0;
  g_line[g_used] = '\0';
  g_used = 0;
  return privota_log(PRIVOTA_LOG_INFO, g_line) == PRIVOTA_OK ? 0 : EOF;
}

static int put(char c, FILE* stream) {
  if (c == '\n') return flush_line(stream) == 0 ? (unsigned char)c : EOF;
  if (g_used == sizeof g_line - 1 && flush_line(stream) != 0) return EOF;
  g_line[g_used++] = c;
  return (unsigned char)c;
}

static FILE g_output = FDEV_SETUP_STREAM(put, NULL, flush_line, _FDEV_SETUP_WRITE);
FILE* const stdout = &g_output;
FILE* const stderr = &g_output;
