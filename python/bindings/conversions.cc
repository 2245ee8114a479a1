// Owns the shared C++ <-> Python value conversions declared in conversions.h.
#include "python/bindings/conversions.h"

namespace adsim::bindings {

py::str Utf8(const std::string& s) {
  PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
  if (!o) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(o);
}

py::object ParamToPython(const ParamValue& v) {
  switch (v.kind) {
    case ParamValue::Kind::kBool:
      return py::bool_(v.boolean);
    case ParamValue::Kind::kString:
      return py::str(v.text);
    case ParamValue::Kind::kNumber:
      break;
  }
  return py::float_(v.number);
}

const char* ParamKindName(ParamValue::Kind k) {
  switch (k) {
    case ParamValue::Kind::kBool:
      return "bool";
    case ParamValue::Kind::kString:
      return "string";
    case ParamValue::Kind::kNumber:
      break;
  }
  return "number";
}

}  // namespace adsim::bindings
