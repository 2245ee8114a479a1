// Owns the sweep across the language boundary: the module function run_many
// (many (scenario, seed) runs on C++ threads with the GIL released; the GIL is
// taken back only on the calling thread, about every 100 ms, for the progress
// callback and Python's signal handlers) and results_image (a raw result as
// the bytes of its HDF5 file). docs/sweeps.md is the user's view.
#include "core/sweep.h"

#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/registry.h"
#include "core/results.h"
#include "core/scenario.h"
#include "python/bindings/module.h"

namespace adsim::bindings {
namespace {

// Python controllers run under the GIL with per-run state on the calling
// thread; a sweep runs on worker threads, so it refuses them (docs/sweeps.md).
void RefusePythonComponents(const Scenario& scenario) {
  std::vector<ConfigIssue> issues;
  const auto check = [&](const ComponentSpec& spec) {
    const auto entry = Registry::Global().Find(ComponentKind::kController, spec.type);
    if (entry && entry->origin == "Python")
      issues.push_back({scenario.source_name, spec.where, spec.line,
                        "a C++ controller: a sweep runs on C++ threads and cannot call Python controllers (run "
                        "them with adsim.run in a loop)",
                        "the Python controller '" + spec.type + "'"});
  };
  for (const auto& spec : scenario.controllers) check(spec);
  for (const auto& campaign : scenario.campaigns)
    for (const auto& spec : campaign.controllers) check(spec);
  if (!issues.empty()) throw ConfigError(issues);
}

std::shared_ptr<const Scenario> LoadSweepScenario(const std::optional<std::string>& text,
                                                  const std::string& source_name,
                                                  const std::optional<std::string>& path) {
  auto scenario = std::make_shared<Scenario>(path ? LoadScenarioFile(*path)
                                                  : ParseScenario(text.value_or(DefaultScenarioText()), source_name));
  ValidateComponents(*scenario);
  RefusePythonComponents(*scenario);
  return scenario;
}

// scenarios: [(text or None, source_name, path or None)]; runs: [(scenario index, seed)].
// Returns one raw result per run, in order (with images: (raw, bytes of its file)).
py::list RunMany(
    const std::vector<std::tuple<std::optional<std::string>, std::string, std::optional<std::string>>>& scenarios,
    const std::vector<std::pair<size_t, uint64_t>>& runs, int workers, const py::object& progress, bool check_signals,
    bool images, const py::object& consume) {
  std::vector<Results> results;
  std::vector<std::vector<unsigned char>> files;
  RunScope scope;
  try {
    py::gil_scoped_release release;
    std::vector<std::shared_ptr<const Scenario>> loaded;
    loaded.reserve(scenarios.size());
    for (const auto& [text, source_name, path] : scenarios)
      loaded.push_back(LoadSweepScenario(text, source_name, path));
    std::vector<SweepRun> sweep_runs;
    sweep_runs.reserve(runs.size());
    for (const auto& [index, seed] : runs) {
      if (index >= loaded.size()) throw InvariantError("run_many: scenario index out of range");
      sweep_runs.push_back({loaded[index], seed});
    }
    SweepOptions options;
    options.workers = workers;
    const py::object* callback = progress.is_none() ? nullptr : &progress;
    RunScope* scope_ptr = &scope;
    if (callback || check_signals) {
      options.poll = [callback, check_signals, scope_ptr](size_t done) {
        py::gil_scoped_acquire gil;
        RunScope* saved = RunScope::current;
        RunScope::current = scope_ptr;
        try {
          if (check_signals && PyErr_CheckSignals() != 0) throw py::error_already_set();
          if (callback) (*callback)(done);
        } catch (py::error_already_set& e) {
          const bool interrupt = e.matches(PyExc_KeyboardInterrupt);
          const std::string what = KeepPythonError(e, interrupt);
          RunScope::current = saved;
          throw Error(interrupt ? "sweep interrupted" : "the progress callback raised " + what);
        }
        RunScope::current = saved;
      };
    }
    if (!consume.is_none()) {
      // Each run, in order, as it finishes: its file image is made here on the
      // calling thread (HDF5 is used from one thread at a time), then the GIL
      // is taken for the Python consumer while the workers go on.
      options.consume = [&consume, images, scope_ptr](size_t index, Results&& result) {
        std::vector<unsigned char> file;
        if (images) file = ResultsFileImage(result);
        py::gil_scoped_acquire gil;
        RunScope* saved = RunScope::current;
        RunScope::current = scope_ptr;
        try {
          py::dict raw = ResultsToPython(std::move(result));
          if (images)
            consume(index, raw,
                    py::bytes(reinterpret_cast<const char*>(file.data()), static_cast<py::ssize_t>(file.size())));
          else
            consume(index, raw);
        } catch (py::error_already_set& e) {
          const std::string what = KeepPythonError(e, false);
          RunScope::current = saved;
          throw Error("the sweep's result consumer raised " + what);
        }
        RunScope::current = saved;
      };
    }
    results = RunSweep(sweep_runs, options);
    if (!consume.is_none()) results.clear();  // each was handed over
    if (images) {
      files.reserve(results.size());
      for (const auto& result : results) files.push_back(ResultsFileImage(result));
    }
  } catch (const Error& e) {
    if (scope.error) RaiseKept(scope, e.what());
    throw;
  }
  scope.cached = py::object();
  py::list out;
  for (size_t i = 0; i < results.size(); ++i) {
    py::dict raw = ResultsToPython(std::move(results[i]));
    if (images)
      out.append(py::make_tuple(
          raw, py::bytes(reinterpret_cast<const char*>(files[i].data()), static_cast<py::ssize_t>(files[i].size()))));
    else
      out.append(raw);
  }
  return out;
}

}  // namespace

void BindSweep(py::module_& m) {
  m.def("run_many", &RunMany, py::arg("scenarios"), py::arg("runs"), py::arg("workers"), py::arg("progress"),
        py::arg("check_signals"), py::arg("images") = false, py::arg("consume") = py::none(),
        "Runs (scenario index, seed) pairs on `workers` C++ threads with the GIL released; returns their raw "
        "results in order (with images=True, (raw, bytes of the HDF5 file)). With `consume`, each run is instead "
        "passed as consume(position, raw[, bytes]) in order as it finishes, while the workers go on, and the "
        "returned list is empty.");
}

}  // namespace adsim::bindings
