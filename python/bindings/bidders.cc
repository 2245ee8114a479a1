// Owns Python bidders: the trampoline (a C++ adsim::Bidder holding a Python
// adapter object, python/adsim/_bidder.py) and registering Python bidders into
// the same C++ registry as the built-in ones. A Python bidder works in one of
// two modes, chosen at registration:
//  - bid table (the default): once per control cycle, with the GIL, its
//    on_cycle() returns a bid per channel x segment (x creative); Bid() then
//    reads that table with no Python and no GIL, so the per-opportunity path
//    stays in C++ (STYLE.md rule 6);
//  - per request: Bid() takes the GIL and calls the bidder's bid() for every
//    bid request. Exact but slow (docs/python.md, "Python bidders", measures it).
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/registry.h"
#include "core/strategy.h"
#include "core/types.h"
#include "python/bindings/conversions.h"
#include "python/bindings/gil.h"
#include "python/bindings/module.h"

namespace adsim::bindings {
namespace {

class PythonBidder final : public Bidder {
 public:
  PythonBidder(std::string description, py::object adapter, bool per_request)
      : description_(std::move(description)), adapter_(std::move(adapter)), per_request_(per_request) {
    on_cycle_ = adapter_.attr("_on_cycle");
    if (per_request_) bid_ = adapter_.attr("_bid");
  }
  ~PythonBidder() override {
    if (!Py_IsInitialized()) {
      adapter_.release();
      on_cycle_.release();
      bid_.release();
      return;
    }
    py::gil_scoped_acquire gil;
    bid_ = py::object();
    on_cycle_ = py::object();
    adapter_ = py::object();
  }
  PythonBidder(const PythonBidder&) = delete;
  PythonBidder& operator=(const PythonBidder&) = delete;

  double Bid(const BidRequest& request, const CampaignState& state) override {
    if (!per_request_) {
      // Before the first table (no control cycle yet): the campaign's base bid.
      if (table_.empty()) return state.bid;
      return table_[(static_cast<size_t>(request.channel) * segments_ + request.segment) * creatives_ +
                    request.creative];
    }
    py::gil_scoped_acquire gil;
    try {
      return bid_(request.time, request.channel, request.segment, request.user, request.hour_of_day, request.floor,
                  request.creative, state.bid, state.spend_today, state.spend_total, state.daily_budget,
                  state.total_budget)
          .cast<double>();
    } catch (py::error_already_set& e) {
      const std::string what = KeepPythonError(e, e.matches(PyExc_KeyboardInterrupt));
      throw Error(description_ + " at simulated time " + FormatDuration(request.time) + " raised " + what);
    } catch (const py::cast_error& e) {
      throw Error(description_ + " at simulated time " + FormatDuration(request.time) +
                  " returned a bid adsim cannot read: " + e.what());
    }
  }

  void OnCycle(const Snapshot& snapshot, int campaign) override {
    py::gil_scoped_acquire gil;
    const std::string where = description_ + " at simulated time " + FormatDuration(snapshot.time);
    try {
      const py::object out = on_cycle_(PythonSnapshot(snapshot));
      if (out.is_none()) return;
      // The adapter checked the shape and flattened it to channels x segments x creatives.
      const auto table = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(out);
      segments_ = static_cast<size_t>(snapshot.num_segments);
      creatives_ = static_cast<size_t>(snapshot.num_creatives[campaign]);
      const size_t cells = static_cast<size_t>(snapshot.num_channels) * segments_ * creatives_;
      if (!table || static_cast<size_t>(table.size()) != cells)
        throw Error(where + " returned a bid table that is not " + std::to_string(cells) + " numbers");
      table_.assign(table.data(), table.data() + cells);
    } catch (py::error_already_set& e) {
      const std::string what = KeepPythonError(e, e.matches(PyExc_KeyboardInterrupt));
      throw Error(where + " raised " + what);
    }
  }

 private:
  std::string description_;  // "Python bidder 'name' (campaign 0 'spring_sale')"
  py::object adapter_, on_cycle_, bid_;
  bool per_request_;
  // Bid table mode: the bids of the last on_cycle(), per channel x segment x creative.
  std::vector<double> table_;
  size_t segments_ = 0, creatives_ = 0;
};

// Registers (or replaces) a Python bidder in the C++ registry.
// `params`: see ParamSpecsFromPython. `factory(params: dict, campaign: int,
// where: str, stream_seed: int)` returns the adapter (python/adsim/_bidder.py).
void RegisterBidder(const std::string& name, const std::string& description, const py::list& params, bool per_request,
                    const py::object& factory) {
  ComponentInfo info;
  info.name = name;
  info.kind = ComponentKind::kBidder;
  info.description = description;
  info.origin = "Python";
  info.params = ParamSpecsFromPython("bidder '" + name + "'", params);
  auto holder = std::make_shared<GilObject>(factory);
  info.make_bidder = [holder, name, per_request](const BuildContext& ctx) -> std::unique_ptr<Bidder> {
    std::string description = "Python bidder '" + name + "'";
    if (ctx.scenario && ctx.campaign >= 0 && ctx.campaign < static_cast<int>(ctx.scenario->campaigns.size()))
      description +=
          " (campaign " + std::to_string(ctx.campaign) + " '" + ctx.scenario->campaigns[ctx.campaign].name + "')";
    py::gil_scoped_acquire gil;
    try {
      py::dict values;
      for (const auto& [k, v] : ctx.params.values()) values[Utf8(k)] = ParamToPython(v);
      py::object adapter = holder->get()(values, ctx.campaign, ctx.where, ctx.stream_seed.value);
      return std::make_unique<PythonBidder>(std::move(description), std::move(adapter), per_request);
    } catch (py::error_already_set& e) {
      if (e.matches(ErrorsModule().attr("ConfigError"))) {
        const std::string msg = py::str(e.value()).cast<std::string>();
        throw ConfigError({{ctx.scenario ? ctx.scenario->source_name : "", ctx.where + ".params", 0,
                            "parameters that Python bidder '" + name + "' accepts", msg}});
      }
      const std::string what = KeepPythonError(e, e.matches(PyExc_KeyboardInterrupt));
      throw Error(description + " at " + ctx.where + " could not be created: " + what);
    }
  };
  Registry::Global().Add(std::move(info), /*replace=*/true);
}

}  // namespace

void BindBidders(py::module_& m) {
  m.def("register_bidder", &RegisterBidder, py::arg("name"), py::arg("description"), py::arg("params"),
        py::arg("per_request"), py::arg("factory"), "Registers (or replaces) a Python bidder in the C++ registry.");
}

}  // namespace adsim::bindings
