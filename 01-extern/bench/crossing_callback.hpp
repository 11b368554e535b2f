// crossing_callback.hpp: what crossing_pybind.cpp and crossing_nanobind.cpp
// share.  Both pass C's cross_call_back() a C function, call_python, that
// calls a std::function (pybind11 or nanobind has already wrapped the
// Python callable in one).  C cannot take a C++ exception, so the first one
// is kept and rethrown after the loop, and the calls that remain do
// nothing.
#ifndef CROSSING_CALLBACK_HPP
#define CROSSING_CALLBACK_HPP

#include <exception>
#include <functional>
#include <utility>

extern "C" {
#include "crossing_lib.h"
}

#define CROSSING_STR(x) CROSSING_STR2(x)
#define CROSSING_STR2(x) #x

// Called by C with the GIL held.
struct Callback {
    std::function<long long(int)> fn;
    std::exception_ptr error;
};

static long long call_python(void *ctx, int i)
{
    auto *cb = static_cast<Callback *>(ctx);
    if (cb->error) {
        return 0;
    }
    try {
        return cb->fn(i);
    } catch (...) {
        cb->error = std::current_exception();
        return 0;
    }
}

// cross_call_back(fn, n) for the binding's call_back(): the sum of fn(i)
// for i in range(n), or fn's first exception, rethrown.
static long long call_back(std::function<long long(int)> fn, int n)
{
    Callback cb{std::move(fn), nullptr};
    long long total = cross_call_back(call_python, &cb, n);
    if (cb.error) {
        std::rethrow_exception(cb.error);
    }
    return total;
}

#endif  // CROSSING_CALLBACK_HPP
