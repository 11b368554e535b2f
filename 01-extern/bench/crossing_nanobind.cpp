// crossing_nanobind.cpp: make bench, nanobind: the same functions as
// crossing_pybind.cpp, in nanobind's near-identical syntax.  nanobind is
// by pybind11's author; it needs C++17, and its own runtime (libnanobind)
// is compiled once and linked into every module.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/vector.h>

#include <cstddef>
#include <exception>
#include <functional>
#include <utility>
#include <vector>

extern "C" {
#include "crossing_lib.h"
}

namespace nb = nanobind;

// Called by C with the GIL held; a C caller cannot take a C++ exception,
// so the first one is kept and rethrown after the loop.
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

// One contiguous dimension of C long long, as array('q') lends it.
using LongLongs = nb::ndarray<const long long, nb::ndim<1>, nb::c_contig,
                              nb::device::cpu>;

#define CROSSING_STR(x) CROSSING_STR2(x)
#define CROSSING_STR2(x) #x

NB_MODULE(crossing_nanobind, m)
{
    m.doc() = "make bench, nanobind: the crossing functions";
    m.attr("built_with") = "nanobind " CROSSING_STR(NB_VERSION_MAJOR) "."
        CROSSING_STR(NB_VERSION_MINOR) "." CROSSING_STR(NB_VERSION_PATCH);
    m.def("nothing", &cross_nothing);
    m.def("add", &cross_add, nb::arg("a"), nb::arg("b"));
    m.def("call_back", [](std::function<long long(int)> fn, int n) {
        Callback cb{std::move(fn), nullptr};
        long long total = cross_call_back(call_python, &cb, n);
        if (cb.error) {
            std::rethrow_exception(cb.error);
        }
        return total;
    });
    // A list is converted into a std::vector: one conversion per element.
    m.def("sum_list", [](const std::vector<long long> &values) {
        return cross_sum(values.data(), values.size());
    });
    // A buffer is read where it lies; nanobind refuses any other dtype,
    // shape or layout before this body runs.
    m.def("sum_buffer", [](LongLongs values) {
        return cross_sum(values.data(), values.shape(0));
    });
}
