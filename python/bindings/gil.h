// Owns the rules for touching Python from C++ code that may run without the
// GIL: GilObject (a Python reference dropped under the GIL whatever thread
// destroys it) and RunScope (per-run state shared by the Python callbacks of
// one run on the thread that runs it). Shared by every area of _adsim.
//
// GIL rules followed throughout the module: the engine runs without the GIL;
// any code that touches a Python object holds it. Python objects owned by C++
// objects that may die without the GIL (controllers, registry entries) are
// released under a freshly acquired GIL in their destructors.
#pragma once

#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>
#include <utility>

#include "core/types.h"

namespace adsim {
struct Snapshot;
}

namespace adsim::bindings {

namespace py = pybind11;

// Owns a Python object; drops the reference under the GIL whatever thread
// destroys it. Never used after the interpreter is finalised (the registry that
// holds some of these is intentionally never destroyed).
class GilObject {
 public:
  explicit GilObject(py::object obj) : obj_(std::move(obj)) {}
  GilObject(const GilObject&) = delete;
  GilObject& operator=(const GilObject&) = delete;
  ~GilObject() {
    if (!Py_IsInitialized()) {
      obj_.release();  // the interpreter is gone: leak rather than crash
      return;
    }
    py::gil_scoped_acquire gil;
    obj_ = py::object();
  }
  const py::object& get() const { return obj_; }

 private:
  py::object obj_;
};

// Per-run state shared by the Python controllers of one run, on the thread
// that runs it. Created and destroyed by Run() with the GIL held; nested
// runs (a controller that itself calls adsim.run) stack.
struct RunScope {
  RunScope() : previous(current) { current = this; }
  ~RunScope() { current = previous; }
  RunScope(const RunScope&) = delete;
  RunScope& operator=(const RunScope&) = delete;

  // The Python exception that aborted the run (a controller's, a progress
  // callback's, or KeyboardInterrupt), with its traceback attached.
  py::object error;
  bool reraise_as_is = false;  // KeyboardInterrupt: re-raise it unchanged
  // The Python Snapshot built for the current control cycle, shared by all the
  // Python controllers of that cycle (it is read-only). `cached_for` is the C++
  // snapshot it was built from, valid only during that cycle's Python calls.
  const Snapshot* cached_for = nullptr;
  SimTime cached_time = -1;
  // Python bidders read the snapshot before the monitors add this cycle's
  // alerts: a view built then is not reused once the alerts are there.
  size_t cached_alerts = 0;
  py::object cached;
  // The C++ snapshot a Python controller is reading: set only during its
  // on_cycle() call (for snapshot_leaves(), which must not outlive it).
  const Snapshot* reading = nullptr;

  RunScope* previous;
  static inline thread_local RunScope* current = nullptr;
};

// Describes and keeps the Python exception `e` in the current RunScope (if
// any), and returns "TypeError: message". Needs the GIL. Defined in errors.cc.
std::string KeepPythonError(py::error_already_set& e, bool as_is = false);

}  // namespace adsim::bindings
