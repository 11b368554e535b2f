/* logger_lib.h: a buffered logger in plain C.  It knows nothing of Python.
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
 * The header has four parts: 1. the logger; 2. stopping a call that
 * blocks (Ctrl-C); 3. the speed layer, a window into the buffer for a
 * caller that already holds a lock of its own (road 1: the GIL); 4. a
 * logger owned from the call that makes it, for a garbage collector
 * (road 2: cffi), and a count of live loggers.
 *
 * Loggers still open when the process exits (exit(3), or a return from
 * main) are flushed and closed by an atexit handler: nothing logged is
 * lost unless the process is killed or calls _exit(2).
 *
 * After fork(2), the child's copy of a logger starts empty: the lines
 * logged before the fork are the parent's, and only the parent writes
 * them.  The child may go on logging; its copy has no writer thread, so
 * it writes its own lines as in LOGGER_DIRECT mode.
 *
 * A write that blocks (a full pipe) can be stopped by a signal: see
 * part 2.  One that nobody may stop (no interrupt check: logger_free(),
 * the atexit handler) and that waits LOGGER_CHECK_MS for a reader who
 * takes nothing, while SIGINT has its default action (as while Python
 * exits), writes one line to fd 2, once per logger: how many bytes wait,
 * and that Ctrl-C again drops them.
 */
#ifndef LOGGER_H
#define LOGGER_H

#include <stddef.h>
#include <string.h>

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
    LOGGER_EWRITE = -1,     /* write(2) failed; errno says why.  The bytes
                             * of that buffer could not be delivered */
    LOGGER_ECLOSED = -2,    /* the logger is closed */
    LOGGER_ENOMEM = -3,     /* malloc failed; nothing copied */
    LOGGER_ECALLBACK = -4,  /* logger_log: the message is in the buffer,
                             * the callback returned non-zero */
    LOGGER_EINTR = -5,      /* the interrupt check said stop while a write
                             * or a wait was blocked.  Nothing is lost:
                             * what was not written yet stays buffered */
    LOGGER_ELOCK = -6,      /* a window's rule broken (part 3): the
                             * calling thread does not hold the owner's
                             * lock.  Nothing was done */
    LOGGER_FULL = 1,        /* logger_window_refill: nothing copied, full
                             * buffers wait: logger_window_wait(), retry */
};
/* [/excerpt: status] */

/* Sizes: one buffer holds buffer_size bytes (a longer message gets a
 * buffer of its own size).  The default is the capacity of an empty Linux
 * pipe (man 7 pipe), so one write(2) can fill it.  At most LOGGER_MAX_FULL
 * full buffers wait to be written; then logging waits for the writer. */
#define LOGGER_BUFFER_SIZE 65536
#define LOGGER_MAX_BUFFER_SIZE (1 << 30)
#define LOGGER_MAX_FULL 4

/* The text logger_close() writes to standard error, the article's Drop. */
#define LOGGER_CLOSING_LINE "C: Flushed and closed logger\n"

/* --- 1. The logger ------------------------------------------------------ */

/* [excerpt: api] */
/* Returns a new logger that the caller owns and must give back with
 * logger_free(), or NULL with errno set (EINVAL: a bad fd, mode, or
 * buffer_size, which must be from 1 to LOGGER_MAX_BUFFER_SIZE).  `fd`
 * stays owned by the caller and must stay open until logger_close().
 * `callback` may be NULL; `user_data` is passed to it untouched (the
 * logger never frees it). */
logger *logger_new(int fd, enum logger_mode mode, size_t buffer_size,
                   logger_callback callback, void *user_data);

/* Copy `msg` (len bytes, any content) into the buffer; may write or wait
 * for room first; then call the callback if msg contains "ERROR".  Any
 * status but LOGGER_OK and LOGGER_ECALLBACK means that nothing was
 * copied. */
int logger_log(logger *lg, const char *msg, size_t len);

/* When it returns LOGGER_OK, everything logged before the call has been
 * written to the file descriptor. */
int logger_flush(logger *lg);

/* Refuse messages, flush, stop the writer thread, write
 * LOGGER_CLOSING_LINE to fd 2, once.  When any call returns LOGGER_OK,
 * all of that is done: a call made while another thread closes waits
 * for it.  After LOGGER_EINTR the logger refuses messages and the next
 * call goes on where this one stopped. */
int logger_close(logger *lg);
int logger_is_closed(logger *lg);

/* Close (if still open) and free.  No other thread may use `lg` any more. */
void logger_free(logger *lg);

/* 1 if msg contains "ERROR", else 0: the test logger_log() uses. */
int logger_has_error_tag(const char *msg, size_t len);
/* [/excerpt: api] */

/* --- 2. Stopping a blocked call ------------------------------------------ */

/* [excerpt: interrupt] */
/* A signal (Ctrl-C) interrupts write(2), but a library cannot know
 * whether the program wants to stop: it asks.  With a check set, a call
 * that writes or waits calls check(arg) when write(2) or poll(2) was
 * interrupted (EINTR), when a write took only part of the bytes (a signal
 * may have cut it short), and every LOGGER_CHECK_MS while it waits for
 * another thread.  Non-zero means stop: the call returns LOGGER_EINTR.
 * The check runs on the calling thread with no lock held, so it may use
 * the logger.  The writer thread never calls it.  NULL (the default)
 * never stops.  logger_free() and the atexit handler remove it first:
 * they must finish. */
typedef int (*logger_interrupt_check)(void *arg);
#define LOGGER_CHECK_MS 50
void logger_set_interrupt_check(logger *lg, logger_interrupt_check check,
                                void *arg);
/* [/excerpt: interrupt] */

/* --- 3. The speed layer: a window for a caller with a lock of its own ---- */

/* [excerpt: window] */
/* The window: the free part of the buffer being filled, in the open, like
 * stdio's putc_unlocked() and its write pointers.  A caller that holds a
 * lock of its own around every call (road 1: the GIL) copies a message
 * that fits with no call and no mutex.  A window with no room means "take
 * the slow road": there is no buffer yet, or the logger is closed. */
struct logger_window {
    char *next;                 /* where the next message goes */
    size_t room;                /* free bytes from next on */
};

/* Take the logger's window, which keeps its address for the logger's
 * life.  `holds_lock` says whether the calling thread holds your lock
 * (road 1 gives PyGILState_Check).  From then on, every call that fills
 * or seals the buffer (logger_window_refill, logger_window_seal,
 * logger_log, logger_flush, logger_close before the logger is sealed
 * for closing) must hold it: without it, the call does nothing and
 * returns LOGGER_ELOCK.  holds_lock NULL gives the window back (stop
 * using it first); returns NULL then. */
struct logger_window *logger_use_window(logger *lg, int (*holds_lock)(void));

/* Copy msg into the window if it fits.  Returns 1 if it copied, or 0:
 * then call logger_window_refill().  (Strictly less than room: a window
 * with no room refuses every message, even an empty one.) */
static inline int
logger_window_append(struct logger_window *w, const char *msg, size_t len)
{
    if (len >= w->room) {
        return 0;
    }
    memcpy(w->next, msg, len);
    w->next += len;
    w->room -= len;
    return 1;
}

/* The slow road, in two halves, for a caller that must not block while
 * it holds its lock.  With your lock: logger_window_refill() takes the
 * mutex, hands the full buffer over, opens a new window and copies msg;
 * it never does I/O and never waits for it.  While full buffers wait it
 * copies nothing and returns LOGGER_FULL.  Then, WITHOUT your lock (it
 * blocks), logger_window_wait() writes them (direct mode) or waits for
 * the writer thread (background mode); retry.  No callback: call
 * logger_has_error_tag() and call back yourself.  A caller with no
 * window may use both, too: they are logger_log() in two halves. */
int logger_window_refill(logger *lg, const char *msg, size_t len);
int logger_window_wait(logger *lg);

/* The first half of logger_flush() and of logger_close(), with your lock:
 * hand the buffer being filled over to be written.  LOGGER_SEAL_TO_CLOSE
 * also refuses every further message.  Then, without your lock,
 * logger_window_wait() (a flush) or logger_close() (a close) does the
 * writing. */
enum logger_seal { LOGGER_SEAL_TO_FLUSH = 0, LOGGER_SEAL_TO_CLOSE = 1 };
int logger_window_seal(logger *lg, enum logger_seal why);
/* [/excerpt: window] */

/* --- 4. A logger owned from birth, for a garbage collector --------------- */

/* [excerpt: holder] */
/* logger_new() hands its caller a bare pointer.  A caller whose objects
 * are freed by a garbage collector (road 2: cffi) would hold it for a
 * moment before anything owns it, and could drop it then.  So the logger
 * can also live in a holder that the collector owns from the call that
 * allocates it, as cffi's ffi.new_allocator() makes one: */
struct logger_holder {
    logger *lg;                 /* NULL until logger_holder_open() */
};

/* An empty holder (lg NULL), or NULL if `size` is not the holder's size
 * (the allocator gives the size and nothing else) or out of memory.  The
 * caller owns it and gives it back with logger_holder_free(). */
struct logger_holder *logger_holder_alloc(size_t size);

/* logger_new() into an empty holder: 0 with h->lg set, owned by the
 * holder from here on, or -1 with errno set (EINVAL: h is not empty). */
int logger_holder_open(struct logger_holder *h, int fd,
                       enum logger_mode mode, size_t buffer_size,
                       logger_callback callback, void *user_data);

/* logger_free() what it holds (it closes the logger, if still open, and
 * drops the status: close it first to see that), then free the holder. */
void logger_holder_free(struct logger_holder *h);
/* [/excerpt: holder] */

/* How many loggers logger_new() made that logger_free() has not freed:
 * for a test that nothing leaks. */
long logger_count_live(void);

#endif /* LOGGER_H */
