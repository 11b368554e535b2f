/* logger.c: the buffered logger of logger.h, in C11 with POSIX threads.
 *
 * Inside: a logger has one buffer being filled (`current`, whose free part
 * is the `window`) and a queue of full buffers waiting to be written
 * (`head` .. `tail`), oldest first.  One mutex guards all of it, except
 * that a caller with a lock of its own may fill the window without the
 * mutex (logger.h, logger_window_append).  That is why the writers below
 * only ever touch the queue, never `current` or the window.  Bytes leave
 * the process in queue order:
 *   direct mode:     a logging thread that finds full buffers writes them,
 *                    holding `io_mutex` so that two writers never overlap;
 *   background mode: the writer thread writes them, alone.
 * No lock is ever held while a callback runs, so a callback may log.
 *
 * pthread_mutex_lock/unlock and pthread_cond_wait are not checked: on a
 * default mutex that we initialised and use correctly (never locked twice
 * by one thread, always unlocked by its owner) POSIX gives them no error
 * to report.  Every call that can fail at run time is checked: the inits,
 * pthread_create, malloc, write and poll.
 */
#define _POSIX_C_SOURCE 200809L

#include "logger.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct buffer {
    struct buffer *next;        /* next in the queue of full buffers */
    unsigned long long seq;     /* 1, 2, 3 ... in the order they filled up */
    size_t used, size;          /* `used` is set when it is sealed: while
                                 * it is `current`, the window knows */
    char data[];
};

struct logger {
    struct logger_window window;    /* the free part of `current` */
    int fd;
    enum logger_mode mode;
    size_t buffer_size;
    logger_callback callback;   /* may be NULL */
    void *user_data;            /* belongs to the caller */
    pid_t pid;                  /* the process that owns the buffers */

    pthread_mutex_t mutex;      /* guards every field below */
    pthread_mutex_t io_mutex;   /* direct mode: one writing thread at a time */
    pthread_cond_t work;        /* background: a buffer is full, or stop */
    pthread_cond_t room;        /* a buffer was written, or closed */
    struct buffer *current;     /* being filled, or NULL */
    struct buffer *head, *tail; /* full, waiting to be written */
    size_t queued;              /* how many are in head .. tail */
    struct buffer *spare;       /* one written buffer kept for reuse */
    unsigned long long sealed_seq, written_seq;
    int write_errno;            /* first failed write not yet reported */
    int (*holds_lock)(void);    /* the window's owner check, or NULL */
    int closed;                 /* messages are refused (logger_shut) */
    int finished;               /* logger_close has run, or is running */
    int stopping, has_writer;
    pthread_t writer;

    struct logger *prev, *next; /* every live logger, for the atexit net */
};

/* --- writing to the descriptor ------------------------------------------ */

/* [excerpt: write_all] */
/* write(2) until every byte is out: a write may be interrupted by a signal
 * (EINTR), may take fewer bytes than asked (a pipe with little room), or
 * may refuse to wait (EAGAIN, when someone made the descriptor
 * non-blocking): then poll(2) until it can take more.  Returns 0, or -1
 * with errno set.  Called with no lock but io_mutex, never with the GIL. */
static int
write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n >= 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, -1) < 0 && errno != EINTR) {
                return -1;
            }
            continue;
        }
        return -1;
    }
    return 0;
}
/* [/excerpt: write_all] */

int
logger_has_error_tag(const char *msg, size_t len)
{
    static const char tag[] = "ERROR";
    const size_t tag_len = sizeof(tag) - 1;
    const char *end = msg + len;
    while ((size_t)(end - msg) >= tag_len) {
        const char *e = memchr(msg, 'E', (size_t)(end - msg) - tag_len + 1);
        if (e == NULL) {
            return 0;
        }
        if (memcmp(e, tag, tag_len) == 0) {
            return 1;
        }
        msg = e + 1;
    }
    return 0;
}

/* --- the queue (all of these run with lg->mutex held) ------------------- */

/* A window user's rule (logger.h) checked: this call fills or seals the
 * window, so the caller must hold its own lock.  A broken rule is a bug
 * in the caller, not bad input: say where, and stop. */
static void
require_caller_lock(logger *lg, const char *who)
{
    if (lg->holds_lock != NULL && !lg->holds_lock()) {
        fprintf(stderr, "logger: %s() called without the caller's lock: "
                "see logger_window_append() in logger.h\n", who);
        abort();
    }
}

/* Returns a buffer of at least `need` bytes that the caller owns, or NULL
 * (out of memory). */
static struct buffer *
take_buffer(logger *lg, size_t need)
{
    size_t size = need > lg->buffer_size ? need : lg->buffer_size;
    if (lg->spare != NULL && lg->spare->size >= size) {
        struct buffer *b = lg->spare;
        lg->spare = NULL;
        b->used = 0;
        return b;
    }
    if (size > (size_t)-1 - sizeof(struct buffer)) {
        return NULL;
    }
    struct buffer *b = malloc(sizeof(struct buffer) + size);
    if (b != NULL) {
        *b = (struct buffer){.size = size};
    }
    return b;
}

/* Takes ownership of `b`: keep it as the spare, or free it. */
static void
give_back(logger *lg, struct buffer *b)
{
    if (lg->spare == NULL && b->size == lg->buffer_size) {
        lg->spare = b;
    }
    else {
        free(b);
    }
}

/* Make `b` the buffer being filled: the window is all of it. */
static void
open_window(logger *lg, struct buffer *b)
{
    lg->current = b;
    lg->window = (struct logger_window){.next = b->data, .room = b->size};
}

/* No room: logger_window_append() refuses, and logger_append() decides. */
static void
close_window(logger *lg)
{
    lg->window = (struct logger_window){.next = NULL, .room = 0};
}

/* Move `current` (if it holds anything) to the end of the queue. */
static void
seal_current(logger *lg)
{
    struct buffer *b = lg->current;
    if (b == NULL || lg->window.next == b->data) {
        return;                         /* nothing in it */
    }
    b->used = (size_t)(lg->window.next - b->data);
    lg->current = NULL;
    close_window(lg);
    b->seq = ++lg->sealed_seq;
    b->next = NULL;
    if (lg->tail != NULL) {
        lg->tail->next = b;
    }
    else {
        lg->head = b;
    }
    lg->tail = b;
    lg->queued++;
    if (lg->mode == LOGGER_BACKGROUND) {
        pthread_cond_signal(&lg->work);
    }
}

static struct buffer *
pop_full(logger *lg)
{
    struct buffer *b = lg->head;
    if (b != NULL) {
        lg->head = b->next;
        if (lg->head == NULL) {
            lg->tail = NULL;
        }
        lg->queued--;
    }
    return b;
}

/* After `b` went out (or failed to): record it, recycle it, wake waiters. */
static void
done_writing(logger *lg, struct buffer *b, int failed_errno)
{
    if (failed_errno != 0 && lg->write_errno == 0) {
        lg->write_errno = failed_errno;
    }
    lg->written_seq = b->seq;
    give_back(lg, b);
    pthread_cond_broadcast(&lg->room);
}

/* Report a failed write once: LOGGER_EWRITE with errno set, else OK. */
static int
take_write_error(logger *lg)
{
    pthread_mutex_lock(&lg->mutex);
    int err = lg->write_errno;
    lg->write_errno = 0;
    pthread_mutex_unlock(&lg->mutex);
    if (err != 0) {
        errno = err;
        return LOGGER_EWRITE;
    }
    return LOGGER_OK;
}

/* --- the two kinds of writer -------------------------------------------- */

/* Direct mode: write every full buffer, in order, on this thread. */
static int
drain(logger *lg)
{
    pthread_mutex_lock(&lg->io_mutex);
    for (;;) {
        pthread_mutex_lock(&lg->mutex);
        struct buffer *b = pop_full(lg);
        pthread_mutex_unlock(&lg->mutex);
        if (b == NULL) {
            break;
        }
        int err = write_all(lg->fd, b->data, b->used) < 0 ? errno : 0;
        pthread_mutex_lock(&lg->mutex);
        done_writing(lg, b, err);
        pthread_mutex_unlock(&lg->mutex);
    }
    pthread_mutex_unlock(&lg->io_mutex);
    return take_write_error(lg);
}

/* [excerpt: writer] */
/* Background mode: the writer thread.  It never touches Python: it holds
 * no GIL and needs none, so it can write while Python threads run, and it
 * can be stopped at interpreter exit without a deadlock. */
static void *
writer_main(void *arg)
{
    logger *lg = arg;
    pthread_mutex_lock(&lg->mutex);
    for (;;) {
        while (lg->head == NULL && !lg->stopping) {
            pthread_cond_wait(&lg->work, &lg->mutex);
        }
        struct buffer *b = pop_full(lg);
        if (b == NULL) {
            break;                      /* stopping, and nothing left */
        }
        pthread_mutex_unlock(&lg->mutex);   /* loggers go on while we write */
        int err = write_all(lg->fd, b->data, b->used) < 0 ? errno : 0;
        pthread_mutex_lock(&lg->mutex);
        done_writing(lg, b, err);
    }
    pthread_mutex_unlock(&lg->mutex);
    return NULL;
}
/* [/excerpt: writer] */

/* --- every live logger, so that exit(3) can flush the forgotten ones ---- */

static pthread_mutex_t registry_mutex = PTHREAD_MUTEX_INITIALIZER;
static logger *registry;
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;

/* [excerpt: atexit] */
/* Runs in exit(3), after Python has finalized (or in a C program's exit).
 * Python objects may be gone, but a logger is plain C: close what is still
 * open, so that its buffered lines reach the descriptor.  A logger that
 * Python never destroyed (kept by a daemon thread, say) ends up here.
 * Closing seals the window without the caller's lock: safe, because road
 * 1 fills windows only with the GIL, which no thread can take any more. */
static void
close_all_at_exit(void)
{
    pthread_mutex_lock(&registry_mutex);
    for (logger *lg = registry; lg != NULL; lg = lg->next) {
        logger_require_lock(lg, NULL);  /* no caller, no caller's lock */
        (void)logger_close(lg);     /* no one is left to report errors to */
    }
    pthread_mutex_unlock(&registry_mutex);
}
/* [/excerpt: atexit] */

static void
register_atexit(void)
{
    /* atexit(3) fails only when its table is full: then there is no net,
     * and a logger Python never destroys keeps its last lines.  There is
     * no caller to tell (this runs once, inside pthread_once). */
    (void)atexit(close_all_at_exit);
}

/* --- the public functions ----------------------------------------------- */

logger *
logger_new(int fd, enum logger_mode mode, size_t buffer_size,
           logger_callback callback, void *user_data)
{
    if (fd < 0 || (mode != LOGGER_DIRECT && mode != LOGGER_BACKGROUND)
        || buffer_size < 1 || buffer_size > LOGGER_MAX_BUFFER_SIZE) {
        errno = EINVAL;
        return NULL;
    }
    logger *lg = malloc(sizeof(*lg));
    if (lg == NULL) {
        return NULL;
    }
    *lg = (logger){
        .fd = fd,
        .mode = mode,
        .buffer_size = buffer_size,
        .callback = callback,
        .user_data = user_data,
        .pid = getpid(),
    };
    int err = 0;
    int have_mutex = 0, have_io = 0, have_work = 0, have_room = 0;
    if ((err = pthread_mutex_init(&lg->mutex, NULL)) != 0) {
        goto error;
    }
    have_mutex = 1;
    if ((err = pthread_mutex_init(&lg->io_mutex, NULL)) != 0) {
        goto error;
    }
    have_io = 1;
    if ((err = pthread_cond_init(&lg->work, NULL)) != 0) {
        goto error;
    }
    have_work = 1;
    if ((err = pthread_cond_init(&lg->room, NULL)) != 0) {
        goto error;
    }
    have_room = 1;
    if (mode == LOGGER_BACKGROUND) {
        if ((err = pthread_create(&lg->writer, NULL, writer_main, lg)) != 0) {
            goto error;
        }
        lg->has_writer = 1;
    }
    if ((err = pthread_once(&registry_once, register_atexit)) != 0) {
        goto error;
    }
    pthread_mutex_lock(&registry_mutex);
    lg->next = registry;
    if (registry != NULL) {
        registry->prev = lg;
    }
    registry = lg;
    pthread_mutex_unlock(&registry_mutex);
    return lg;

error:
    if (lg->has_writer) {
        pthread_mutex_lock(&lg->mutex);
        lg->stopping = 1;
        pthread_cond_signal(&lg->work);
        pthread_mutex_unlock(&lg->mutex);
        (void)pthread_join(lg->writer, NULL);
    }
    if (have_room) {
        pthread_cond_destroy(&lg->room);
    }
    if (have_work) {
        pthread_cond_destroy(&lg->work);
    }
    if (have_io) {
        pthread_mutex_destroy(&lg->io_mutex);
    }
    if (have_mutex) {
        pthread_mutex_destroy(&lg->mutex);
    }
    free(lg);
    errno = err;
    return NULL;
}

/* [excerpt: append] */
int
logger_append(logger *lg, const char *msg, size_t len)
{
    int status = LOGGER_OK;
    pthread_mutex_lock(&lg->mutex);
    if (lg->closed) {
        status = LOGGER_ECLOSED;
        goto done;
    }
    require_caller_lock(lg, "logger_append");
    if (lg->current == NULL || lg->window.room < len) {
        /* It does not fit: this buffer is full.  If too many full ones
         * wait already, copy nothing: the caller makes room and retries. */
        if (lg->queued >= LOGGER_MAX_FULL) {
            status = LOGGER_FULL;
            goto done;
        }
        seal_current(lg);
        struct buffer *b = lg->current;     /* NULL, or empty */
        if (b == NULL || b->size < len) {
            struct buffer *fresh = take_buffer(lg, len);
            if (fresh == NULL) {
                status = LOGGER_ENOMEM;
                goto done;
            }
            if (b != NULL) {
                give_back(lg, b);           /* empty but too small */
            }
            open_window(lg, fresh);
        }
    }
    /* The whole message at once, under the mutex. */
    memcpy(lg->window.next, msg, len);
    lg->window.next += len;
    lg->window.room -= len;
    if (lg->mode == LOGGER_DIRECT && lg->queued > 0) {
        status = LOGGER_WRITE_DUE;          /* the caller writes them */
    }
done:
    pthread_mutex_unlock(&lg->mutex);
    return status;
}
/* [/excerpt: append] */

int
logger_make_room(logger *lg)
{
    if (lg->mode == LOGGER_DIRECT) {
        return drain(lg);
    }
    pthread_mutex_lock(&lg->mutex);
    while (lg->queued >= LOGGER_MAX_FULL && !lg->closed) {
        pthread_cond_wait(&lg->room, &lg->mutex);
    }
    pthread_mutex_unlock(&lg->mutex);
    return take_write_error(lg);
}

/* [excerpt: log] */
int
logger_log(logger *lg, const char *msg, size_t len)
{
    int status;
    while ((status = logger_append(lg, msg, len)) == LOGGER_FULL) {
        int made = logger_make_room(lg);
        if (made != LOGGER_OK) {
            return made;
        }
    }
    if (status == LOGGER_WRITE_DUE) {
        status = logger_make_room(lg);
    }
    if (status < 0) {
        return status;
    }
    /* The message is in the buffer; no lock is held while C calls out. */
    if (lg->callback != NULL && logger_has_error_tag(msg, len)
        && lg->callback(lg->user_data, msg, len) != 0) {
        return LOGGER_ECALLBACK;
    }
    return LOGGER_OK;
}
/* [/excerpt: log] */

struct logger_window *
logger_window(logger *lg)
{
    return &lg->window;
}

void
logger_require_lock(logger *lg, int (*holds_lock)(void))
{
    pthread_mutex_lock(&lg->mutex);
    lg->holds_lock = holds_lock;
    pthread_mutex_unlock(&lg->mutex);
}

void
logger_seal(logger *lg)
{
    pthread_mutex_lock(&lg->mutex);
    require_caller_lock(lg, "logger_seal");
    seal_current(lg);
    pthread_mutex_unlock(&lg->mutex);
}

int
logger_write_sealed(logger *lg)
{
    if (lg->mode == LOGGER_DIRECT) {
        return drain(lg);
    }
    /* The writer thread writes in order and empties the queue before it
     * stops, so waiting for its count is enough (a fork(2)ed copy has no
     * writer: it must not wait). */
    pthread_mutex_lock(&lg->mutex);
    unsigned long long target = lg->sealed_seq;
    while (lg->written_seq < target && lg->pid == getpid()) {
        pthread_cond_wait(&lg->room, &lg->mutex);
    }
    pthread_mutex_unlock(&lg->mutex);
    return take_write_error(lg);
}

int
logger_flush(logger *lg)
{
    logger_seal(lg);
    return logger_write_sealed(lg);
}

/* Refuse messages from now on, and seal what was logged (lg->mutex held).
 * The window gets no room, so logger_window_append() refuses too. */
static void
shut_locked(logger *lg, const char *who)
{
    if (!lg->closed && lg->pid == getpid()) {
        require_caller_lock(lg, who);
        seal_current(lg);
    }
    lg->closed = 1;
    close_window(lg);
    pthread_cond_broadcast(&lg->room);  /* nobody waits for room now */
}

void
logger_shut(logger *lg)
{
    pthread_mutex_lock(&lg->mutex);
    shut_locked(lg, "logger_shut");
    pthread_mutex_unlock(&lg->mutex);
}

int
logger_is_closed(logger *lg)
{
    pthread_mutex_lock(&lg->mutex);
    int closed = lg->closed;
    pthread_mutex_unlock(&lg->mutex);
    return closed;
}

/* [excerpt: close] */
int
logger_close(logger *lg)
{
    pthread_mutex_lock(&lg->mutex);
    if (lg->finished) {
        pthread_mutex_unlock(&lg->mutex);
        return LOGGER_OK;
    }
    lg->finished = 1;
    shut_locked(lg, "logger_close");    /* from now on logging is refused */
    if (lg->pid != getpid()) {
        /* A fork(2)ed copy: the parent owns these lines and writes them;
         * writing them here too would print them twice.  The copy has no
         * writer thread (fork copies only the calling thread). */
        lg->has_writer = 0;
        pthread_mutex_unlock(&lg->mutex);
        return LOGGER_OK;
    }
    int has_writer = lg->has_writer;
    lg->stopping = 1;
    pthread_cond_signal(&lg->work);
    lg->has_writer = 0;
    pthread_mutex_unlock(&lg->mutex);

    int status;
    if (has_writer) {
        /* The writer empties the queue before it returns.  Joining cannot
         * fail: the thread is joinable, joined once (only the first close
         * gets here), and never by itself (the writer never closes). */
        (void)pthread_join(lg->writer, NULL);
        status = take_write_error(lg);
    }
    else {
        status = drain(lg);
    }
    int saved = errno;
    (void)write_all(2, LOGGER_CLOSING_LINE, sizeof(LOGGER_CLOSING_LINE) - 1);
    errno = saved;
    return status;
}
/* [/excerpt: close] */

void
logger_free(logger *lg)
{
    if (lg == NULL) {
        return;
    }
    (void)logger_close(lg);     /* a no-op if the owner closed it already */

    pthread_mutex_lock(&registry_mutex);
    if (lg->prev != NULL) {
        lg->prev->next = lg->next;
    }
    else {
        registry = lg->next;
    }
    if (lg->next != NULL) {
        lg->next->prev = lg->prev;
    }
    pthread_mutex_unlock(&registry_mutex);

    /* Only a fork(2)ed copy can still hold unwritten buffers here. */
    struct buffer *b;
    while ((b = pop_full(lg)) != NULL) {
        free(b);
    }
    free(lg->current);
    free(lg->spare);
    pthread_cond_destroy(&lg->room);
    pthread_cond_destroy(&lg->work);
    pthread_mutex_destroy(&lg->io_mutex);
    pthread_mutex_destroy(&lg->mutex);
    free(lg);
}
