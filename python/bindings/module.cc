// _adsim: the compiled half of the adsim Python package (STYLE.md rule 8:
// thin). This file owns the module itself (its version attributes) and calls
// each area's Bind* function; the areas (see module.h) are:
//  - run.cc: running a scenario with the GIL released, validating one;
//  - results.cc: Results to numpy arrays without copying, and back for HDF5
//    files and KPI summaries made by the same C++ code as the command line;
//  - snapshot.cc: the Python view of each control cycle's Snapshot;
//  - controllers.cc: the registry (listing components, registering Python
//    controllers) and the trampoline that runs a Python controller;
//  - bidders.cc: Python bidders (a bid table per cycle, or a call per bid);
//  - review.cc: the Python reviewer of held actions;
//  - detect.cc: adsim.detect, the named detectors over a CSV series;
//  - attribute.cc: adsim.attribute, the attribution models over path data;
//  - sweep.cc: many runs on C++ threads with the GIL released;
//  - creative_policy.cc: a creative controller run on a log's counts (adsim.ope);
//  - lookalike.cc: the L2 logistic regression behind adsim.lookalike;
//  - errors.cc: the C++ error hierarchy as adsim.Error and its subclasses;
//  - gil.h, conversions.*: GIL-safe ownership and shared value conversions.
// Everything else (DataFrames, KPIs, the Snapshot and Action classes, argument
// checking) is pure Python in python/adsim/.
#include "python/bindings/module.h"

#include <pybind11/pybind11.h>

#include "core/results.h"

PYBIND11_MODULE(_adsim, m) {
  using namespace adsim;
  m.doc() = "adsim's compiled core. Use the adsim package, not this module.";
  m.attr("__version__") = AdsimVersion();
  m.attr("schema_version") = kSchemaVersion;
  m.attr("boost_version") = BoostVersion();
  bindings::BindErrors(m);
  bindings::BindSnapshot(m);
  bindings::BindResults(m);
  bindings::BindControllers(m);
  bindings::BindBidders(m);
  bindings::BindRun(m);
  bindings::BindDetect(m);
  bindings::BindAttribute(m);
  bindings::BindSweep(m);
  bindings::BindCreativePolicy(m);
  bindings::BindLookalike(m);
}
