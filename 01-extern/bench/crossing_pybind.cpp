// crossing_pybind.cpp: make bench, pybind11: the same functions as
// crossing_capi, declared in C++; pybind11's templates write the argument
// parsing and conversion that crossing_capi.c writes by hand.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <exception>
#include <functional>
#include <utility>
#include <vector>

extern "C" {
#include "crossing_lib.h"
}

namespace py = pybind11;

#define CROSSING_STR(x) CROSSING_STR2(x)
#define CROSSING_STR2(x) #x

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

PYBIND11_MODULE(crossing_pybind, m)
{
    m.doc() = "make bench, pybind11: the crossing functions";
    m.attr("built_with") = "pybind11 " CROSSING_STR(PYBIND11_VERSION_MAJOR)
        "." CROSSING_STR(PYBIND11_VERSION_MINOR) "."
        CROSSING_STR(PYBIND11_VERSION_PATCH);
    m.def("nothing", &cross_nothing);
    m.def("add", &cross_add, py::arg("a"), py::arg("b"));
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
    // A buffer is read where it lies.
    m.def("sum_buffer", [](py::buffer values) {
        py::buffer_info info = values.request();
        if (info.format != py::format_descriptor<long long>::format()
            || info.ndim != 1 || info.strides[0] != sizeof(long long)) {
            throw py::type_error("expected a contiguous buffer of 'q'");
        }
        return cross_sum(static_cast<const long long *>(info.ptr),
                         static_cast<size_t>(info.shape[0]));
    });
}
