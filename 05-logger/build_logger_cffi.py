"""cffi API mode builder for stage 05: writes _logger_cffi.c, nothing else.

    python3 build_logger_cffi.py OUT.c

The Makefile compiles OUT.c with logger_lib.o by the same rule as the
hand-written module: no setuptools, no distutils.
"""
import sys

import cffi

# [excerpt: builder]
ffi = cffi.FFI()
ffi.cdef("""
    typedef struct logger logger;
    typedef int (*logger_callback)(void *user_data, const char *msg,
                                   size_t len);
    enum logger_mode { LOGGER_DIRECT = 0, LOGGER_BACKGROUND = 1 };
    enum logger_status {
        LOGGER_OK = 0, LOGGER_EWRITE = -1, LOGGER_ECLOSED = -2,
        LOGGER_ENOMEM = -3, LOGGER_ECALLBACK = -4, LOGGER_EINTR = -5,
        LOGGER_ELOCK = -6, LOGGER_FULL = 1
    };
    #define LOGGER_BUFFER_SIZE ...
    #define LOGGER_MAX_BUFFER_SIZE ...
    typedef int (*logger_interrupt_check)(void *arg);
    logger *logger_new(int fd, enum logger_mode mode, size_t buffer_size,
                       logger_callback callback, void *user_data);
    int logger_log(logger *lg, const char *msg, size_t len);
    int logger_flush(logger *lg);
    int logger_close(logger *lg);
    int logger_is_closed(logger *lg);
    void logger_set_interrupt_check(logger *lg, logger_interrupt_check check,
                                    void *arg);
    void logger_free(logger *lg);

    /* Part 4: a holder that cffi owns from the call that allocates it
     * (ffi.new_allocator), and a count of live loggers for the tests. */
    struct logger_holder {
        logger *lg;
    };
    struct logger_holder *logger_holder_alloc(size_t size);
    int logger_holder_open(struct logger_holder *h, int fd,
                           enum logger_mode mode, size_t buffer_size,
                           logger_callback callback, void *user_data);
    void logger_holder_free(struct logger_holder *h);
    long logger_count_live(void);

    /* Written in Python with @ffi.def_extern() (logger_cffi.py); C sees
     * ordinary functions that match logger_callback and
     * logger_interrupt_check. */
    extern "Python" int py_on_error(void *user_data, const char *msg,
                                    size_t len);
    extern "Python" int py_check_signals(void *arg);
""")
ffi.set_source("_logger_cffi", '#include "logger_lib.h"')
# [/excerpt: builder]

if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: build_logger_cffi.py OUT.c")
    ffi.emit_c_code(sys.argv[1])
