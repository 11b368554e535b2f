/* logger_lib.c: the buffered logger of logger_lib.h, in C11 with POSIX
 * threads.
 *
 * Inside: a logger has one buffer being filled (`current`, whose free part
 * is the `window`) and a queue of full buffers waiting to be written
 * (`head` .. `tail`), oldest first.  One mutex guards all of it, except
 * that a caller with a lock of its own may fill the window without the
 * mutex (logger_lib.h, part 3).  That is why the writers below
 * only ever touch the queue, never `current` or the window.  Bytes leave
 * the process in queue order:
 *   direct mode:     a logging thread that finds full buffers writes them,
 *                    one thread at a time (`writing` says who is busy);
 *   background mode: the writer thread writes them, alone.
 *
 * The mutex is never held while a thread writes, waits for I/O, or calls
 * out (the callback, the interrupt check): every wait is a condition
 * variable wait, which releases it.  So a callback or an interrupt check
 * may use the logger again, a fork(2) never finds it held for long, and
 * a waiting thread can always be asked whether to stop.
 *
 * pthread_mutex_lock/unlock, pthread_cond_wait/signal/broadcast are not
 * checked: on a default mutex that we initialised and use correctly (never
 * locked twice by one thread, always unlocked by its owner) POSIX gives
 * them no error to report; pthread_cond_timedwait reports only ETIMEDOUT,
 * which the code expects.  Every call that can fail at run time is
 * checked: the inits, pthread_create, pthread_sigmask, malloc, write and
 * poll.
 */
#define _POSIX_C_SOURCE 200809L

#include "logger_lib.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct buffer {
    struct buffer *next;        /* next in the queue of full buffers */
    unsigned long long seq;     /* 1, 2, 3 ... in the order they filled up */
    size_t used, size;          /* `used` is set when it is sealed: while
                                 * it is `current`, the window knows */
    size_t done;                /* bytes already written: a write that was
                                 * stopped goes on from here, never twice */
    char data[];
};

struct logger {
    struct logger_window window;    /* the free part of `current` */
    int fd;
    enum logger_mode mode;      /* a fork(2)ed copy becomes LOGGER_DIRECT */
    size_t buffer_size;
    logger_callback callback;   /* may be NULL */
    void *user_data;            /* belongs to the caller */

    pthread_mutex_t mutex;      /* guards every field below */
    pthread_cond_t work;        /* background: a buffer is full, or stop */
    pthread_cond_t room;        /* a buffer was written or put back, the
                                 * logger closed, or its close finished */
    logger_interrupt_check check;   /* may be NULL */
    void *check_arg;
    struct buffer *current;     /* being filled, or NULL */
    struct buffer *head, *tail; /* full, waiting to be written */
    size_t queued;              /* how many are in head .. tail */
    struct buffer *writing;     /* taken off the queue, being written */
    struct buffer *spare;       /* one written buffer kept for reuse */
    unsigned long long sealed_seq, written_seq;
    int write_errno;            /* first failed write not yet reported */
    int (*holds_lock)(void);    /* the window's owner check, or NULL:
                                 * nobody fills the window but us */
    int closed;                 /* messages are refused (shut_locked) */
    int closing;                /* a logger_close stops the writer and
                                 * says so: the others wait for it */
    int finished;               /* ... and it has */
    int stopping, has_writer;
    int conds_lost;             /* a fork(2)ed copy could not remake its
                                 * condition variables: it is closed */
    int told_stuck;             /* tell_if_stuck() has said it */
    pthread_t writer;

    struct logger *prev, *next; /* every live logger (registry_mutex) */
};

/* --- writing to the descriptor ------------------------------------------ */

/* [excerpt: write_all] */
/* What write_some() says. */
enum { WRITTEN = 0, WRITE_FAILED = -1, WRITE_PAUSED = 1 };

/* write(2) data[*done .. len) until all of it is out.  A write may take
 * fewer bytes than asked (a pipe with little room, or a signal cut it
 * short), may be interrupted by a signal before it wrote anything
 * (EINTR), or may refuse to wait (EAGAIN, when someone made the
 * descriptor non-blocking): then poll(2) until it can take more.
 * *done counts what went out.  Returns WRITTEN, or WRITE_FAILED with
 * errno set, or, only if `pause` is set, WRITE_PAUSED after a signal or
 * a short write: the caller may ask whether to stop before it blocks
 * again.  Called with no lock held, never with the GIL. */
static int
write_some(int fd, const char *data, size_t len, size_t *done, int pause)
{
    while (*done < len) {
        ssize_t n = write(fd, data + *done, len - *done);
        if (n >= 0) {
            *done += (size_t)n;
            if (pause && *done < len) {
                return WRITE_PAUSED;
            }
            continue;
        }
        if (errno == EINTR) {
            if (pause) {
                return WRITE_PAUSED;
            }
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            struct pollfd p = {.fd = fd, .events = POLLOUT};
            if (poll(&p, 1, -1) < 0) {
                if (errno != EINTR) {
                    return WRITE_FAILED;
                }
                if (pause) {
                    return WRITE_PAUSED;
                }
            }
            continue;
        }
        return WRITE_FAILED;
    }
    return WRITTEN;
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

/* The window's rule (logger_lib.h, part 3), checked by every call that
 * fills or seals the window: 1 if the caller may, 0 if a window owner
 * exists and the calling thread does not hold its lock.  The caller then
 * does nothing and returns LOGGER_ELOCK: a bug in the caller, reported,
 * never a silently torn line. */
static int
may_touch_window(logger *lg)
{
    return lg->holds_lock == NULL || lg->holds_lock();
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
        b->done = 0;
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

/* No room: logger_window_append() refuses, and append() decides. */
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

/* A write of `b` was stopped half-way: it goes back to the front, so that
 * the next writer starts with the rest of it (from b->done). */
static void
push_front(logger *lg, struct buffer *b)
{
    b->next = lg->head;
    lg->head = b;
    if (lg->tail == NULL) {
        lg->tail = b;
    }
    lg->queued++;
    pthread_cond_broadcast(&lg->room);  /* a writer may take over */
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

/* --- waiting, and asking whether to stop -------------------------------- */

/* Ask the interrupt check (lg->mutex held; released while it runs, so
 * that it may use the logger).  1: stop. */
static int
ask_to_stop(logger *lg)
{
    logger_interrupt_check check = lg->check;
    void *arg = lg->check_arg;
    if (check == NULL) {
        return 0;
    }
    pthread_mutex_unlock(&lg->mutex);
    int stop = check(arg) != 0;
    pthread_mutex_lock(&lg->mutex);
    return stop;
}

static struct timespec
now_plus_check_interval(void)
{
    struct timespec t = {0, 0};
    /* CLOCK_MONOTONIC always exists on POSIX.1-2008 systems; should it
     * fail, t stays 0 and the next wait simply ends at once. */
    if (clock_gettime(CLOCK_MONOTONIC, &t) == 0) {
        t.tv_nsec += LOGGER_CHECK_MS * 1000000L;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec += t.tv_nsec / 1000000000L;
            t.tv_nsec %= 1000000000L;
        }
    }
    return t;
}

/* Wait on lg->room (lg->mutex held, released during the wait).  With an
 * interrupt check, ask it at *ask_at and every LOGGER_CHECK_MS after: a
 * signal does not wake a thread from a condition variable.  The caller
 * keeps *ask_at ({0, 0} at first) across its loop, so that wake-ups
 * cannot put the question off.  Returns 1 if the check said stop, else
 * 0; like pthread_cond_wait it may return early, so the caller loops on
 * its own condition. */
static int
wait_for_room(logger *lg, struct timespec *ask_at)
{
    if (lg->check == NULL) {
        pthread_cond_wait(&lg->room, &lg->mutex);
        return 0;
    }
    if (ask_at->tv_sec == 0 && ask_at->tv_nsec == 0) {
        *ask_at = now_plus_check_interval();
    }
    if (pthread_cond_timedwait(&lg->room, &lg->mutex, ask_at) == 0) {
        return 0;
    }
    *ask_at = now_plus_check_interval();    /* ETIMEDOUT: time to ask */
    return ask_to_stop(lg);
}

/* --- a write nobody may stop, to a reader who does not read ------------- */

/* [excerpt: tell_if_stuck] */
/* Without an interrupt check (a close at interpreter exit, in a garbage
 * collector, in logger_free, in the atexit handler), a write waits for
 * whoever reads the descriptor, for ever if nobody does.  When Ctrl-C
 * would end the process then (SIGINT's default action, as while Python
 * finalizes), a second Ctrl-C loses every line still buffered.  Say so,
 * once per logger, in one line on stderr, if the descriptor takes nothing
 * for LOGGER_CHECK_MS.  `more`: bytes the caller took off the queue to
 * write.  No lock held. */
static void
tell_if_stuck(logger *lg, size_t more)
{
    struct sigaction now;
    if (sigaction(SIGINT, NULL, &now) != 0 || now.sa_handler != SIG_DFL) {
        return;
    }
    struct pollfd p = {.fd = lg->fd, .events = POLLOUT};
    if (poll(&p, 1, LOGGER_CHECK_MS) != 0) {
        return;             /* it takes bytes (or fails: write says why) */
    }
    pthread_mutex_lock(&lg->mutex);
    size_t waiting = more;
    for (struct buffer *b = lg->head; b != NULL; b = b->next) {
        waiting += b->used - b->done;
    }
    if (lg->mode == LOGGER_BACKGROUND && lg->writing != NULL) {
        waiting += lg->writing->used;   /* its writer owns `done` */
    }
    int told = lg->told_stuck;
    lg->told_stuck = 1;
    pthread_mutex_unlock(&lg->mutex);
    if (told || waiting == 0) {
        return;
    }
    char line[160];
    char where[32] = "standard output";
    if (lg->fd != 1) {
        snprintf(where, sizeof(where), "fd %d", lg->fd);
    }
    int n = snprintf(line, sizeof(line), "C: logger: %zu bytes wait for "
                     "the reader of %s; Ctrl-C again drops them\n",
                     waiting, where);
    int saved = errno;
    size_t done = 0;
    (void)write_some(2, line, (size_t)n, &done, 0);
    errno = saved;
}
/* [/excerpt: tell_if_stuck] */

/* --- the two kinds of writer -------------------------------------------- */

/* Direct mode: write every full buffer, in order, on this thread, one
 * writing thread at a time.  Returns when the queue is empty and nobody
 * writes, so everything sealed before the call has gone out. */
static int
drain(logger *lg)
{
    struct timespec ask_at = {0, 0};
    pthread_mutex_lock(&lg->mutex);
    for (;;) {
        if (lg->writing != NULL) {      /* another thread writes: wait */
            if (wait_for_room(lg, &ask_at)) {
                pthread_mutex_unlock(&lg->mutex);
                return LOGGER_EINTR;
            }
            continue;
        }
        struct buffer *b = pop_full(lg);
        if (b == NULL) {
            break;
        }
        lg->writing = b;
        /* Without a check, pause anyway after a short write: the next
         * round tells if the descriptor then takes nothing more. */
        int unstoppable = lg->check == NULL;
        pthread_mutex_unlock(&lg->mutex);
        if (unstoppable) {
            tell_if_stuck(lg, b->used - b->done);
        }
        int r = write_some(lg->fd, b->data, b->used, &b->done, 1);
        int err = r == WRITE_FAILED ? errno : 0;
        pthread_mutex_lock(&lg->mutex);
        lg->writing = NULL;
        if (r == WRITE_PAUSED) {
            push_front(lg, b);          /* the rest of it stays first */
            if (ask_to_stop(lg)) {
                pthread_mutex_unlock(&lg->mutex);
                return LOGGER_EINTR;
            }
            continue;
        }
        done_writing(lg, b, err);
    }
    pthread_mutex_unlock(&lg->mutex);
    return take_write_error(lg);
}

/* [excerpt: writer] */
/* Background mode: the writer thread.  It never touches Python: it holds
 * no GIL and needs none, so it can write while Python threads run, and it
 * can be stopped at interpreter exit without a deadlock.  It blocks every
 * signal (logger_new), so that they go to the program's own threads. */
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
        lg->writing = b;
        pthread_mutex_unlock(&lg->mutex);   /* loggers go on while we write */
        int r = write_some(lg->fd, b->data, b->used, &b->done, 0);
        int err = r == WRITE_FAILED ? errno : 0;
        pthread_mutex_lock(&lg->mutex);
        lg->writing = NULL;
        done_writing(lg, b, err);
    }
    pthread_mutex_unlock(&lg->mutex);
    return NULL;
}
/* [/excerpt: writer] */

/* --- every live logger: for exit(3), and for fork(2) --------------------- */

static pthread_mutex_t registry_mutex = PTHREAD_MUTEX_INITIALIZER;
static logger *registry;
static long registry_count;     /* how many loggers are in it */
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;
static int registry_error;      /* pthread_atfork's, if it failed */

/* [excerpt: atexit] */
/* Runs in exit(3), after Python has finalized (or in a C program's exit).
 * Python objects may be gone, but a logger is plain C: close what is still
 * open, so that its buffered lines reach the descriptor.  A logger that
 * Python never destroyed (kept by a daemon thread, say) ends up here.
 * Closing seals the window without the caller's lock: safe, because road
 * 1 fills windows only with the GIL, which no thread can take any more.
 * For the same reason nobody may be asked whether to stop. */
static void
close_all_at_exit(void)
{
    pthread_mutex_lock(&registry_mutex);
    for (logger *lg = registry; lg != NULL; lg = lg->next) {
        pthread_mutex_lock(&lg->mutex);
        lg->holds_lock = NULL;      /* no caller, no caller's lock */
        pthread_mutex_unlock(&lg->mutex);
        logger_set_interrupt_check(lg, NULL, NULL);
        (void)logger_close(lg);     /* no one is left to report errors to */
    }
    pthread_mutex_unlock(&registry_mutex);
}
/* [/excerpt: atexit] */

/* The condition variables, waited on with a CLOCK_MONOTONIC deadline
 * (wait_for_room).  Returns 0 or an errno value; on failure nothing is
 * left initialised. */
static int
init_conds(logger *lg)
{
    pthread_condattr_t attr;
    int err = pthread_condattr_init(&attr);
    if (err != 0) {
        return err;
    }
    err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (err == 0) {
        err = pthread_cond_init(&lg->room, &attr);
    }
    if (err == 0) {
        err = pthread_cond_init(&lg->work, NULL);
        if (err != 0) {
            pthread_cond_destroy(&lg->room);
        }
    }
    (void)pthread_condattr_destroy(&attr);  /* cannot fail: initialised */
    return err;
}

/* [excerpt: fork] */
/* fork(2) copies memory and only the calling thread.  Just before it, take
 * every logger's mutex (never held for long: nobody holds it while
 * writing or waiting), so that the child's copies are not caught half-way
 * through a change.  In the parent, let go. */
static void
before_fork(void)
{
    pthread_mutex_lock(&registry_mutex);
    for (logger *lg = registry; lg != NULL; lg = lg->next) {
        pthread_mutex_lock(&lg->mutex);
    }
}

static void
after_fork_in_parent(void)
{
    for (logger *lg = registry; lg != NULL; lg = lg->next) {
        pthread_mutex_unlock(&lg->mutex);
    }
    pthread_mutex_unlock(&registry_mutex);
}

/* In the child, the lines in every buffer are the parent's, and the
 * parent writes them: drop them, with the buffer another thread was
 * writing.  That thread, the writer thread and every waiter are not in
 * the child: forget them (their condition variables too), and write as
 * direct mode does.  A logger closed or closing in the parent stays
 * closed, silently: the parent says so. */
static void
after_fork_in_child(void)
{
    for (logger *lg = registry; lg != NULL; lg = lg->next) {
        struct buffer *b;
        while ((b = pop_full(lg)) != NULL) {
            free(b);
        }
        free(lg->writing);
        lg->writing = NULL;
        if (lg->current != NULL && !lg->closed) {
            open_window(lg, lg->current);       /* empty again */
        }
        lg->written_seq = lg->sealed_seq;
        lg->write_errno = 0;
        lg->mode = LOGGER_DIRECT;
        lg->has_writer = lg->stopping = 0;
        if (lg->closed) {
            lg->closing = lg->finished = 1;
        }
        if (init_conds(lg) != 0) {
            /* No condition variables: closed, so that nothing waits on
             * them or destroys them (POSIX allows this failure; glibc's
             * pthread_cond_init never fails). */
            lg->conds_lost = lg->closed = lg->closing = lg->finished = 1;
            close_window(lg);
        }
        pthread_mutex_unlock(&lg->mutex);
    }
    pthread_mutex_unlock(&registry_mutex);
}
/* [/excerpt: fork] */

static void
register_handlers(void)
{
    /* atexit(3) fails only when its table is full: then there is no net,
     * and a logger Python never destroys keeps its last lines.  There is
     * no caller to tell (this runs once, inside pthread_once).  Without
     * the fork handlers, though, a fork could deadlock a child: then
     * logger_new refuses to make loggers. */
    (void)atexit(close_all_at_exit);
    registry_error = pthread_atfork(before_fork, after_fork_in_parent,
                                    after_fork_in_child);
}

/* --- the public functions ----------------------------------------------- */

/* Starts the writer thread with every signal blocked: it inherits the
 * mask.  Returns 0 or an errno value. */
static int
start_writer(logger *lg)
{
    sigset_t all, old;
    if (sigfillset(&all) != 0) {
        return errno;
    }
    int err = pthread_sigmask(SIG_SETMASK, &all, &old);
    if (err != 0) {
        return err;
    }
    err = pthread_create(&lg->writer, NULL, writer_main, lg);
    /* Restoring the mask we just read cannot fail. */
    (void)pthread_sigmask(SIG_SETMASK, &old, NULL);
    return err;
}

logger *
logger_new(int fd, enum logger_mode mode, size_t buffer_size,
           logger_callback callback, void *user_data)
{
    if (fd < 0 || (mode != LOGGER_DIRECT && mode != LOGGER_BACKGROUND)
        || buffer_size < 1 || buffer_size > LOGGER_MAX_BUFFER_SIZE) {
        errno = EINVAL;
        return NULL;
    }
    int err = pthread_once(&registry_once, register_handlers);
    if (err != 0 || (err = registry_error) != 0) {
        errno = err;
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
    };
    int have_mutex = 0, have_conds = 0;
    if ((err = pthread_mutex_init(&lg->mutex, NULL)) != 0) {
        goto error;
    }
    have_mutex = 1;
    if ((err = init_conds(lg)) != 0) {
        goto error;
    }
    have_conds = 1;
    if (mode == LOGGER_BACKGROUND) {
        if ((err = start_writer(lg)) != 0) {
            goto error;
        }
        lg->has_writer = 1;
    }
    pthread_mutex_lock(&registry_mutex);
    lg->next = registry;
    if (registry != NULL) {
        registry->prev = lg;
    }
    registry = lg;
    registry_count++;
    pthread_mutex_unlock(&registry_mutex);
    return lg;

error:
    if (have_conds) {
        pthread_cond_destroy(&lg->room);
        pthread_cond_destroy(&lg->work);
    }
    if (have_mutex) {
        pthread_mutex_destroy(&lg->mutex);
    }
    free(lg);
    errno = err;
    return NULL;
}

/* [excerpt: append] */
/* Copy msg under the mutex, behind the full buffer if it does not fit.
 * Never writes, never waits: LOGGER_FULL says that someone must. */
static int
append(logger *lg, const char *msg, size_t len)
{
    int status = LOGGER_OK;
    pthread_mutex_lock(&lg->mutex);
    if (lg->closed) {
        status = LOGGER_ECLOSED;
        goto done;
    }
    if (!may_touch_window(lg)) {
        status = LOGGER_ELOCK;
        goto done;
    }
    if (lg->current == NULL || lg->window.room < len) {
        /* It does not fit: this buffer is full.  Copy nothing while full
         * buffers wait: in direct mode the caller writes them first, in
         * background mode it waits until the writer has made room.  Then
         * it retries, so a message is either copied or not at all. */
        if (lg->mode == LOGGER_DIRECT) {
            seal_current(lg);
            if (lg->queued > 0) {
                status = LOGGER_FULL;
                goto done;
            }
        }
        else {
            if (lg->queued >= LOGGER_MAX_FULL) {
                status = LOGGER_FULL;
                goto done;
            }
            seal_current(lg);
        }
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
done:
    pthread_mutex_unlock(&lg->mutex);
    return status;
}
/* [/excerpt: append] */

/* Write full buffers (direct mode) or wait until the writer thread has
 * taken one (background), so that append() finds room. */
static int
make_room(logger *lg)
{
    if (lg->mode == LOGGER_DIRECT) {
        return drain(lg);
    }
    struct timespec ask_at = {0, 0};
    pthread_mutex_lock(&lg->mutex);
    while (lg->queued >= LOGGER_MAX_FULL && !lg->closed) {
        if (wait_for_room(lg, &ask_at)) {
            pthread_mutex_unlock(&lg->mutex);
            return LOGGER_EINTR;
        }
    }
    pthread_mutex_unlock(&lg->mutex);
    return take_write_error(lg);
}

/* [excerpt: log] */
int
logger_log(logger *lg, const char *msg, size_t len)
{
    int status;
    while ((status = append(lg, msg, len)) == LOGGER_FULL) {
        int made = make_room(lg);
        if (made != LOGGER_OK) {
            return made;                /* nothing copied */
        }
    }
    if (status != LOGGER_OK) {
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

void
logger_set_interrupt_check(logger *lg, logger_interrupt_check check,
                           void *arg)
{
    pthread_mutex_lock(&lg->mutex);
    lg->check = check;
    lg->check_arg = arg;
    pthread_mutex_unlock(&lg->mutex);
}

/* Everything sealed before the call: written (direct mode), or waited
 * for until the writer thread has written it (background). */
static int
write_sealed(logger *lg)
{
    if (lg->mode == LOGGER_DIRECT) {
        return drain(lg);
    }
    /* The writer thread writes in order and empties the queue before it
     * stops, so waiting for its count is enough. */
    struct timespec ask_at = {0, 0};
    pthread_mutex_lock(&lg->mutex);
    unsigned long long target = lg->sealed_seq;
    if (lg->check == NULL && lg->written_seq < target) {
        pthread_mutex_unlock(&lg->mutex);
        tell_if_stuck(lg, 0);
        pthread_mutex_lock(&lg->mutex);
    }
    while (lg->written_seq < target) {
        if (wait_for_room(lg, &ask_at)) {
            pthread_mutex_unlock(&lg->mutex);
            return LOGGER_EINTR;
        }
    }
    pthread_mutex_unlock(&lg->mutex);
    return take_write_error(lg);
}

/* Hand `current` over to be written (lg->mutex held). */
static int
seal_locked(logger *lg)
{
    if (!may_touch_window(lg)) {
        return LOGGER_ELOCK;
    }
    seal_current(lg);
    return LOGGER_OK;
}

int
logger_flush(logger *lg)
{
    pthread_mutex_lock(&lg->mutex);
    int status = seal_locked(lg);
    pthread_mutex_unlock(&lg->mutex);
    if (status != LOGGER_OK) {
        return status;
    }
    return write_sealed(lg);
}

/* Refuse messages from now on, and seal what was logged (lg->mutex held).
 * The window gets no room, so logger_window_append() refuses too; and
 * with it goes `current`, even empty (after log("")): a closed window
 * no longer says how full it was, so nothing may seal it later. */
static int
shut_locked(logger *lg)
{
    if (lg->closed) {
        return LOGGER_OK;
    }
    if (!may_touch_window(lg)) {
        return LOGGER_ELOCK;
    }
    seal_current(lg);
    if (lg->current != NULL) {
        give_back(lg, lg->current);     /* empty */
        lg->current = NULL;
    }
    lg->closed = 1;
    close_window(lg);
    pthread_cond_broadcast(&lg->room);  /* nobody waits for room now */
    return LOGGER_OK;
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
    int status = shut_locked(lg);   /* from now on logging is refused */
    pthread_mutex_unlock(&lg->mutex);
    if (status != LOGGER_OK) {
        return status;              /* LOGGER_ELOCK: nothing done */
    }

    /* Every line out, whoever writes it: this thread, another one that
     * closes too, or the writer thread.  A stop leaves the rest to the
     * next call. */
    status = write_sealed(lg);
    if (status == LOGGER_EINTR) {
        return status;
    }
    struct timespec ask_at = {0, 0};
    pthread_mutex_lock(&lg->mutex);
    while (lg->closing && !lg->finished) {
        /* Another thread is stopping the writer and saying so. */
        if (wait_for_room(lg, &ask_at)) {
            pthread_mutex_unlock(&lg->mutex);
            return LOGGER_EINTR;
        }
    }
    if (lg->closing) {
        pthread_mutex_unlock(&lg->mutex);
        return status;                  /* done, by us or by another */
    }
    lg->closing = 1;
    int has_writer = lg->has_writer;
    lg->stopping = 1;
    pthread_cond_signal(&lg->work);
    lg->has_writer = 0;
    pthread_mutex_unlock(&lg->mutex);

    if (has_writer) {
        /* The queue is empty, so the writer returns at once.  Joining
         * cannot fail: the thread is joinable, joined once (only the
         * thread that set `closing` gets here), never by itself. */
        (void)pthread_join(lg->writer, NULL);
    }
    if (status == LOGGER_OK) {
        status = take_write_error(lg);
    }
    int saved = errno;
    size_t done = 0;
    (void)write_some(2, LOGGER_CLOSING_LINE, sizeof(LOGGER_CLOSING_LINE) - 1,
                     &done, 0);
    errno = saved;

    pthread_mutex_lock(&lg->mutex);
    lg->finished = 1;
    pthread_cond_broadcast(&lg->room);
    pthread_mutex_unlock(&lg->mutex);
    return status;
}
/* [/excerpt: close] */

void
logger_free(logger *lg)
{
    if (lg == NULL) {
        return;
    }
    /* The last call: it must finish, so nobody may stop it half-way, and
     * no other thread can be filling the window any more. */
    pthread_mutex_lock(&lg->mutex);
    lg->holds_lock = NULL;
    lg->check = NULL;
    lg->check_arg = NULL;
    pthread_mutex_unlock(&lg->mutex);
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
    registry_count--;
    pthread_mutex_unlock(&registry_mutex);

    /* Closing wrote the queue and dropped `current`: what could be left
     * is the spare. */
    free(lg->current);
    free(lg->spare);
    if (!lg->conds_lost) {
        pthread_cond_destroy(&lg->room);
        pthread_cond_destroy(&lg->work);
    }
    pthread_mutex_destroy(&lg->mutex);
    free(lg);
}

/* --- 3. the speed layer: the window ------------------------------------- */

struct logger_window *
logger_use_window(logger *lg, int (*holds_lock)(void))
{
    pthread_mutex_lock(&lg->mutex);
    lg->holds_lock = holds_lock;
    pthread_mutex_unlock(&lg->mutex);
    return holds_lock != NULL ? &lg->window : NULL;
}

int
logger_window_refill(logger *lg, const char *msg, size_t len)
{
    return append(lg, msg, len);
}

int
logger_window_wait(logger *lg)
{
    return write_sealed(lg);
}

int
logger_window_seal(logger *lg, enum logger_seal why)
{
    pthread_mutex_lock(&lg->mutex);
    int status = why == LOGGER_SEAL_TO_CLOSE ? shut_locked(lg)
                                             : seal_locked(lg);
    pthread_mutex_unlock(&lg->mutex);
    return status;
}

/* --- 4. a logger in a holder -------------------------------------------- */

struct logger_holder *
logger_holder_alloc(size_t size)
{
    if (size != sizeof(struct logger_holder)) {
        return NULL;                /* not a holder's size: refuse */
    }
    return calloc(1, size);         /* lg NULL; the caller owns it */
}

int
logger_holder_open(struct logger_holder *h, int fd, enum logger_mode mode,
                   size_t buffer_size, logger_callback callback,
                   void *user_data)
{
    if (h->lg != NULL) {
        errno = EINVAL;             /* one logger per holder */
        return -1;
    }
    h->lg = logger_new(fd, mode, buffer_size, callback, user_data);
    return h->lg != NULL ? 0 : -1;
}

void
logger_holder_free(struct logger_holder *h)
{
    if (h != NULL) {
        logger_free(h->lg);         /* NULL: nothing to free */
        free(h);
    }
}

long
logger_count_live(void)
{
    pthread_mutex_lock(&registry_mutex);
    long count = registry_count;
    pthread_mutex_unlock(&registry_mutex);
    return count;
}
