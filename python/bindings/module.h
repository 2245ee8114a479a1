// Owns the map of _adsim's areas: what each area file defines for module.cc
// (its Bind* function, which adds that area's names to the module) and the few
// functions one area calls in another. Python names are documented in
// python/adsim/_adsim.pyi. No area includes core/engine/ (the engine's
// internals): only core's public headers.
#pragma once

#include <pybind11/pybind11.h>

#include <functional>
#include <string>
#include <vector>

#include "core/registry.h"
#include "core/results.h"
#include "core/review.h"
#include "core/strategy.h"
#include "python/bindings/conversions.h"
#include "python/bindings/gil.h"

namespace adsim::bindings {

namespace py = pybind11;

// errors.cc: the adsim._errors module; C++ errors -> adsim.Error and subclasses.
py::object ErrorsModule();
// Raises the Python exception kept in `scope` (wrapped in adsim.Error with the
// original as __cause__, or unchanged for KeyboardInterrupt). Needs the GIL.
[[noreturn]] void RaiseKept(RunScope& scope, const std::string& message);
void BindErrors(py::module_& m);

// results.cc: Results <-> the raw layout python/adsim/_result.py reads;
// writing results and formatting the KPI summary.
py::dict ResultsToPython(Results&& results);
void BindResults(py::module_& m);

// snapshot.cc: the Python view of a control cycle's Snapshot.
// The Python Snapshot for `snapshot`, built once per control cycle and run.
py::object PythonSnapshot(const Snapshot& snapshot);
void BindSnapshot(py::module_& m);

// controllers.cc: the registry (listing components, registering Python
// controllers) and the trampoline that runs a Python controller.
void BindControllers(py::module_& m);
// A Python component's declared parameters: [{"name", "kind": "number"|"bool"|
// "string", "default", "description", "min", "max", "choices" (strings only,
// optional)}] (python/adsim/_controller.py). `what` names the component in errors.
std::vector<ParamSpec> ParamSpecsFromPython(const std::string& what, const py::list& params);

// bidders.cc: registering Python bidders and the trampoline that runs one
// (a bid table per control cycle, or a Python call per bid request).
void BindBidders(py::module_& m);

// review.cc: the Python reviewer of held actions, as RunOptions::reviewer.
// Captures pointers only (see Run() in run.cc).
std::function<ReviewDecision(const ReviewRequest&)> PythonReviewer(const py::object* reviewer, RunScope* scope);

// creative_policy.cc: a registered creative controller run on a log's
// per-cycle counts (the policies of adsim.ope).
void BindCreativePolicy(py::module_& m);

// lookalike.cc: the project's L2 logistic regression (adsim.lookalike's fit).
void BindLookalike(py::module_& m);

// detect.cc: adsim.detect (named detectors over a CSV series).
void BindDetect(py::module_& m);

// attribute.cc: adsim.attribute (attribution models over path data).
void BindAttribute(py::module_& m);

// run.cc: running and validating scenarios.
void BindRun(py::module_& m);

// sweep.cc: many runs on C++ threads (core/sweep.h).
void BindSweep(py::module_& m);

}  // namespace adsim::bindings
