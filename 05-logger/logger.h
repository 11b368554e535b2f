/* logger.h: a buffered logger in plain C.  It knows nothing of Python.
 *
 * A logger copies each message into a buffer in memory and writes whole
 * buffers to a file descriptor (standard output): when a buffer is full,
 * on logger_flush(), on logger_close() and in logger_free().  A message
 * that contains "ERROR" makes logger_log() call a callback.
 *
 * Two modes:
 *   LOGGER_DIRECT      the thread that logs writes the full buffers itself.
 *   LOGGER_BACKGROUND  a writer thread (pthreads) writes the full buffers;
 *                      a logging thread only copies bytes, and waits only
 *                      when every buffer is full.
 *
 * Every function may be called from several threads at once, except
 * logger_free(), which must be the last call on a logger.  A message is
 * copied whole under one lock, so lines from different threads are never
 * torn or interleaved, and lines from one thread keep their order.
 *
 * Loggers still open when the process exits (exit(3), or a return from
 * main) are flushed and closed by an atexit handler: nothing logged is
 * lost unless the process is killed or calls _exit(2).
 */
#ifndef LOGGER_H
#define LOGGER_H

#include <stddef.h>

typedef struct logger logger;

/* Called by logger_log() on the logging thread, with no lock held, after a
 * message containing "ERROR" is in the buffer.  Return 0, or non-zero to
 * make logger_log() return LOGGER_ECALLBACK.  `msg` is only valid during
 * the call. */
typedef int (*logger_callback)(void *user_data, const char *msg, size_t len);

enum logger_mode {
    LOGGER_DIRECT = 0,
    LOGGER_BACKGROUND = 1,
};

/* [excerpt: status] */
enum logger_status {
    LOGGER_OK = 0,
    LOGGER_FULL = 1,        /* logger_append: nothing copied, every buffer
                             * is full: call logger_make_room(), retry */
    LOGGER_WRITE_DUE = 2,   /* logger_append: copied; a full buffer waits
                             * to be written: call logger_make_room() */
    LOGGER_EWRITE = -1,     /* write(2) failed; errno says why.  The bytes
                             * of that buffer could not be delivered */
    LOGGER_ECLOSED = -2,    /* the logger is closed */
    LOGGER_ENOMEM = -3,     /* malloc failed; nothing copied */
    LOGGER_ECALLBACK = -4,  /* logger_log: the message is in the buffer,
                             * the callback returned non-zero */
};
/* [/excerpt: status] */

/* Sizes: one buffer holds LOGGER_BUFFER_SIZE bytes (a longer message gets
 * a buffer of its own size).  At most LOGGER_MAX_FULL full buffers wait
 * to be written; then logging waits for the writer. */
#define LOGGER_BUFFER_SIZE 8192
#define LOGGER_BACKGROUND_BUFFER_SIZE 65536
#define LOGGER_MAX_FULL 4

/* The text logger_close() writes to standard error, the article's Drop. */
#define LOGGER_CLOSING_LINE "C: Flushed and closed logger\n"

/* [excerpt: api] */
/* Returns a new logger that the caller owns and must give back with
 * logger_free(), or NULL with errno set.  `fd` stays owned by the caller
 * and must stay open until logger_close().  `callback` may be NULL;
 * `user_data` is passed to it untouched (the logger never frees it). */
logger *logger_new(int fd, enum logger_mode mode,
                   logger_callback callback, void *user_data);

/* Copy `msg` (len bytes, any content) into the buffer; may write or wait
 * for room first; then call the callback if msg contains "ERROR".  */
int logger_log(logger *lg, const char *msg, size_t len);

/* The two halves of logger_log() for a caller that must not block while
 * it holds a lock of its own (the GIL): logger_append() never does I/O
 * and never waits for I/O; logger_make_room() writes (direct mode) or
 * waits for the writer thread (background mode).  No callback. */
int logger_append(logger *lg, const char *msg, size_t len);
int logger_make_room(logger *lg);

/* When it returns LOGGER_OK, everything logged before the call has been
 * written to the file descriptor. */
int logger_flush(logger *lg);

/* Flush, stop the writer thread, write LOGGER_CLOSING_LINE to fd 2.  Only
 * the first call does this; later calls and logging return at once. */
int logger_close(logger *lg);
int logger_is_closed(logger *lg);

/* Close (if still open) and free.  No other thread may use `lg` any more. */
void logger_free(logger *lg);

/* 1 if msg contains "ERROR", else 0. */
int logger_has_error_tag(const char *msg, size_t len);
/* [/excerpt: api] */

#endif /* LOGGER_H */
