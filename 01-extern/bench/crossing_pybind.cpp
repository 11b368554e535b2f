// crossing_pybind.cpp: make bench, pybind11: the same functions as
// crossing_capi, declared in C++; pybind11's templates write the argument
// parsing and conversion that crossing_capi.c writes by hand.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <vector>

#include "crossing_callback.hpp"

namespace py = pybind11;

PYBIND11_MODULE(crossing_pybind, m)
{
    m.doc() = "make bench, pybind11: the crossing functions";
    m.attr("built_with") = "pybind11 " CROSSING_STR(PYBIND11_VERSION_MAJOR)
        "." CROSSING_STR(PYBIND11_VERSION_MINOR) "."
        CROSSING_STR(PYBIND11_VERSION_PATCH);
    m.def("nothing", &cross_nothing);
    m.def("add", &cross_add, py::arg("a"), py::arg("b"));
    m.def("call_back", &call_back);
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
