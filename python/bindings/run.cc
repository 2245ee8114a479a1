// Owns running and validating scenarios from Python: loading the scenario,
// running it with the GIL released (taken back only for the progress
// callback, Python's signal handlers, the reviewer and Python controllers),
// and the module functions run, validate, python_modules and
// default_scenario_text.
#include <cstdint>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/engine.h"
#include "core/error.h"
#include "core/memory_needs.h"
#include "core/registry.h"
#include "core/results.h"
#include "core/scenario.h"
#include "python/bindings/conversions.h"
#include "python/bindings/gil.h"
#include "python/bindings/module.h"

namespace adsim::bindings {
namespace {

// Exactly one of `text` and `path` is set.
Scenario LoadScenario(const std::optional<std::string>& text, const std::string& source_name,
                      const std::optional<std::string>& path) {
  if (path) return LoadScenarioFile(*path);
  return ParseScenario(text.value_or(DefaultScenarioText()), source_name);
}

// Checks what a run would check before starting: the scenario itself, and
// that every component name and parameter resolves (as `adsim validate`).
void CheckComponents(const Scenario& sc) { ValidateComponents(sc); }

py::dict ScenarioInfo(const Scenario& sc) {
  py::dict d;
  d["name"] = Utf8(sc.name);
  d["description"] = Utf8(sc.description);
  d["source"] = Utf8(sc.source_name);
  d["seed"] = sc.seed ? py::object(py::int_(*sc.seed)) : py::object(py::none());
  d["start"] = Utf8(sc.start);
  d["duration_us"] = sc.duration;
  d["bucket_us"] = sc.bucket;
  d["control_cycle_us"] = sc.control_cycle;
  py::list ch, seg, camp, shocks;
  for (const auto& c : sc.channels) ch.append(Utf8(c.name));
  for (const auto& s : sc.segments) seg.append(Utf8(s.name));
  for (const auto& c : sc.campaigns) camp.append(Utf8(c.name));
  for (const auto& s : sc.shocks) shocks.append(Utf8(s.name));
  d["channels"] = ch;
  d["segments"] = seg;
  d["campaigns"] = camp;
  d["shocks"] = shocks;
  return d;
}

py::dict Validate(const std::optional<std::string>& text, const std::string& source_name,
                  const std::optional<std::string>& path) {
  std::optional<Scenario> sc;
  {
    py::gil_scoped_release release;
    sc = LoadScenario(text, source_name, path);
    CheckComponents(*sc);
  }
  return ScenarioInfo(*sc);
}

// RunOptions::check_interrupt for a run started from Python's main thread:
// Python's own SIGINT handler only sets a flag that PyErr_CheckSignals reads
// (and runs the handlers) under the GIL, so the engine calls this about every
// 100 ms of wall time, whatever the control cycle. An exception a handler
// raises (KeyboardInterrupt for Ctrl-C) is re-raised unchanged after the run.
std::function<void()> SignalCheck(RunScope* scope) {
  return [scope]() {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() == 0) return;
    py::error_already_set e;
    RunScope* saved = RunScope::current;
    RunScope::current = scope;
    const std::string what = KeepPythonError(e, true);
    RunScope::current = saved;
    throw Error(e.matches(PyExc_KeyboardInterrupt) ? "run interrupted" : "a signal handler raised " + what);
  };
}

// The scenario's `python:` list: [(path as written, line)], without
// resolving its components (they may be the modules' own).
py::list PythonModules(const std::optional<std::string>& text, const std::string& source_name,
                       const std::optional<std::string>& path) {
  std::optional<Scenario> sc;
  {
    py::gil_scoped_release release;
    sc = LoadScenario(text, source_name, path);
  }
  py::list out;
  for (const auto& module : sc->python_modules) out.append(py::make_tuple(Utf8(module.path), module.line));
  return out;
}

py::dict Run(const std::optional<std::string>& text, const std::string& source_name,
             const std::optional<std::string>& path, std::optional<uint64_t> seed, const std::string& out,
             const py::object& progress, bool check_signals, const py::object& reviewer, bool oracle, double oracle_all,
             bool oracle_all_cell_truth, bool oracle_user_truth) {
  RunScope scope;
  RunOptions options;
  options.seed = seed;
  options.oracle_all_multiplier = oracle_all;  // checked by adsim.run (python/adsim/_run.py)
  options.oracle_all_cell_truth = oracle_all_cell_truth;
  options.oracle_user_truth = oracle_user_truth;
  // Called once per control cycle without the GIL; takes it only when there is
  // something to do in Python. Captures pointers only: copying the std::function
  // must never touch a Python reference count.
  const py::object* callback = progress.is_none() ? nullptr : &progress;
  RunScope* scope_ptr = &scope;
  if (callback || check_signals) {
    options.progress = [callback, check_signals, scope_ptr](double fraction) {
      py::gil_scoped_acquire gil;
      RunScope* saved = RunScope::current;
      RunScope::current = scope_ptr;
      try {
        if (check_signals && PyErr_CheckSignals() != 0) throw py::error_already_set();
        if (callback) (*callback)(fraction);
      } catch (py::error_already_set& e) {
        const bool interrupt = e.matches(PyExc_KeyboardInterrupt);
        const std::string what = KeepPythonError(e, interrupt);
        RunScope::current = saved;
        throw Error(interrupt ? "run interrupted" : "the progress callback raised " + what);
      }
      RunScope::current = saved;
    };
  }
  if (!reviewer.is_none()) options.reviewer = PythonReviewer(&reviewer, scope_ptr);
  if (check_signals) options.check_interrupt = SignalCheck(scope_ptr);
  std::optional<Results> results;
  std::string out_of_memory;
  try {
    py::gil_scoped_release release;
    Scenario sc = LoadScenario(text, source_name, path);
    if (oracle) sc.oracle = true;  // `adsim run --oracle`
    // Here, not in adsim.run: only the parsed scenario says whether it has `oracle: true`.
    if (!oracle_user_truth && !sc.oracle && !(oracle_all > 0))
      throw std::invalid_argument(
          "oracle_user_truth=False: only with an oracle (oracle=True, the scenario's `oracle: true`, or oracle_all); "
          "without one it would change nothing");
    // Before the run: a path that cannot be written fails now, not after it.
    std::optional<OutputFile> output;
    if (!out.empty()) output.emplace(out);
    const char* doing = "running the scenario";
    try {
      results = RunScenario(sc, options);
      doing = "writing the result file";
      if (output) output->Commit(*results);
    } catch (const std::bad_alloc&) {
      results.reset();  // frees what the run held before the message is built
      out_of_memory = OutOfMemoryMessage(doing, &sc);
    }
  } catch (const Error& e) {
    if (scope.error) RaiseKept(scope, e.what());
    throw;
  }
  if (!out_of_memory.empty()) {
    PyErr_SetString(PyExc_MemoryError, out_of_memory.c_str());
    throw py::error_already_set();
  }
  scope.cached = py::object();
  return ResultsToPython(std::move(*results));
}

}  // namespace

void BindRun(py::module_& m) {
  m.def(
      "default_scenario_text", []() { return DefaultScenarioText(); }, "The embedded default scenario (YAML text).");
  m.def("run", &Run, py::arg("text"), py::arg("source_name"), py::arg("path"), py::arg("seed"), py::arg("out"),
        py::arg("progress"), py::arg("check_signals"), py::arg("reviewer") = py::none(), py::arg("oracle") = false,
        py::arg("oracle_all") = 0.0, py::arg("oracle_all_cell_truth") = false, py::arg("oracle_user_truth") = true,
        "Parses and runs a scenario with the GIL released; returns the raw result layout.");
  m.def("python_modules", &PythonModules, py::arg("text"), py::arg("source_name"), py::arg("path"),
        "The scenario's `python:` module files as [(path as written, line)].");
  m.def("validate", &Validate, py::arg("text"), py::arg("source_name"), py::arg("path"),
        "Parses a scenario and resolves its components; returns a short description.");
}

}  // namespace adsim::bindings
