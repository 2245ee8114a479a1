// Owns the small conversions between adsim's C++ values and Python objects
// that several areas of _adsim share: UTF-8 text, component parameter values,
// and numpy arrays that take over a C++ vector's buffer without copying.
// Every file of the module includes it (through module.h), so that all of them
// see the same pybind11 type casters (stl.h: std::optional, std::vector, ...).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <utility>
#include <vector>

#include "core/registry.h"

namespace adsim::bindings {

namespace py = pybind11;

// A str from bytes that should be UTF-8; invalid bytes are replaced, never fatal.
py::str Utf8(const std::string& s);

// A parameter value as a Python bool, str or float.
py::object ParamToPython(const ParamValue& v);

// "bool", "string" or "number".
const char* ParamKindName(ParamValue::Kind k);

// A numpy array that owns `v`'s buffer (moved into a capsule): no copy.
template <class T>
py::array OwnedArray(std::vector<T>&& v) {
  auto* heap = new std::vector<T>(std::move(v));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(heap->size())}, {static_cast<py::ssize_t>(sizeof(T))}, heap->data(),
                        owner);
}

}  // namespace adsim::bindings
