// Owns errors across the language boundary: one Python class per C++ error
// kind (defined in python/adsim/_errors.py), the translator that raises them,
// and keeping a Python exception that aborted a run so that it is re-raised
// (chained, with its traceback) once the run has unwound.
#include <exception>
#include <string>
#include <vector>

#include "core/error.h"
#include "python/bindings/conversions.h"
#include "python/bindings/gil.h"
#include "python/bindings/module.h"

namespace adsim::bindings {
namespace {

void SetPythonError(const char* cls_name, const std::string& message, const std::vector<ConfigIssue>* issues) {
  try {
    py::object cls = ErrorsModule().attr(cls_name);
    py::object exc;
    if (issues && !issues->empty()) {
      py::list items;
      for (const ConfigIssue& i : *issues) {
        py::dict d;
        d["file"] = Utf8(i.file);
        d["path"] = Utf8(i.path);
        d["line"] = i.line;
        d["expected"] = Utf8(i.expected);
        d["found"] = Utf8(i.found);
        items.append(std::move(d));
      }
      exc = cls(Utf8(message), py::arg("issues") = items);
    } else {
      exc = cls(Utf8(message));
    }
    PyErr_SetObject(cls.ptr(), exc.ptr());
  } catch (py::error_already_set& e) {
    e.restore();  // could not even build the exception: report why
  } catch (...) {
    PyErr_SetString(PyExc_RuntimeError, message.c_str());
  }
}

}  // namespace

py::object ErrorsModule() { return py::module_::import("adsim._errors"); }

std::string KeepPythonError(py::error_already_set& e, bool as_is) {
  std::string text;
  try {
    text = py::str(e.type().attr("__name__")).cast<std::string>();
    const std::string msg = py::str(e.value()).cast<std::string>();
    if (!msg.empty()) text += ": " + msg;
  } catch (...) {
    text = "a Python exception";
  }
  if (RunScope* scope = RunScope::current) {
    if (e.trace() && e.value()) PyException_SetTraceback(e.value().ptr(), e.trace().ptr());
    scope->error = e.value();
    scope->reraise_as_is = as_is;
  }
  return text;
}

void RaiseKept(RunScope& scope, const std::string& message) {
  py::object cause = std::move(scope.error);
  if (scope.reraise_as_is) {
    PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(cause.ptr())), cause.ptr());
    throw py::error_already_set();
  }
  py::object cls = ErrorsModule().attr("Error");
  py::object exc = cls(message);
  PyException_SetCause(exc.ptr(), cause.release().ptr());  // steals the reference
  PyErr_SetObject(cls.ptr(), exc.ptr());
  throw py::error_already_set();
}

void BindErrors(py::module_& m) {
  (void)m;
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const ConfigError& e) {
      SetPythonError("ConfigError", e.what(), &e.issues());
    } catch (const DataError& e) {
      SetPythonError("DataError", e.what(), nullptr);
    } catch (const InvariantError& e) {
      SetPythonError("InvariantError", e.what(), nullptr);
    } catch (const IoError& e) {
      SetPythonError("IoError", e.what(), nullptr);
    } catch (const Error& e) {
      SetPythonError("Error", e.what(), nullptr);
    }
  });
}

}  // namespace adsim::bindings
