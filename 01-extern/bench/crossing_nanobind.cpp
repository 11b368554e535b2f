// crossing_nanobind.cpp: make bench, nanobind: the same functions as
// crossing_pybind.cpp, in nanobind's near-identical syntax.  nanobind is
// by pybind11's author; it needs C++17, and its own runtime (libnanobind)
// is compiled once and linked into every module.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/vector.h>

#include <cstddef>
#include <vector>

#include "crossing_callback.hpp"

namespace nb = nanobind;

// One contiguous dimension of C long long, as array('q') lends it.
using LongLongs = nb::ndarray<const long long, nb::ndim<1>, nb::c_contig,
                              nb::device::cpu>;

NB_MODULE(crossing_nanobind, m)
{
    m.doc() = "make bench, nanobind: the crossing functions";
    m.attr("built_with") = "nanobind " CROSSING_STR(NB_VERSION_MAJOR) "."
        CROSSING_STR(NB_VERSION_MINOR) "." CROSSING_STR(NB_VERSION_PATCH);
    m.def("nothing", &cross_nothing);
    m.def("add", &cross_add, nb::arg("a"), nb::arg("b"));
    m.def("call_back", &call_back);
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
