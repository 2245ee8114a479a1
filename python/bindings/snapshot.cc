// Owns the Python view of a control cycle's Snapshot: the dict
// python/adsim/_controller.py turns into an adsim.Snapshot, built once per
// cycle and run and shared by that cycle's Python controllers.
#include <pybind11/numpy.h>

#include <cstring>
#include <vector>

#include "core/strategy.h"
#include "python/bindings/conversions.h"
#include "python/bindings/gil.h"
#include "python/bindings/module.h"

namespace adsim::bindings {
namespace {

const char* GoalName(GoalKind g) { return g == GoalKind::kCpa ? "cpa" : g == GoalKind::kRoas ? "roas" : "none"; }

// The snapshot as the dict python/adsim/_controller.py turns into a Snapshot.
// Counters are copied into read-only structured numpy arrays (one record per
// cell); the copy is three memcpy-sized moves per cycle.
py::dict SnapshotToPython(const Snapshot& s) {
  auto counters = [](const std::vector<ObservedStats>& v) {
    py::array_t<ObservedStats> a(static_cast<py::ssize_t>(v.size()));
    if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(ObservedStats));
    a.attr("setflags")(py::arg("write") = false);
    return a;
  };
  py::list campaigns;
  for (const CampaignState& c : s.campaigns) {
    py::dict d;
    d["name"] = Utf8(c.name);
    d["bid"] = c.bid;
    d["initial_bid"] = c.initial_bid;
    d["daily_budget"] = c.daily_budget;
    d["total_budget"] = c.total_budget;
    d["spend_today"] = c.spend_today;
    d["spend_total"] = c.spend_total;
    d["paused"] = c.paused;
    d["segment_modifier"] = py::tuple(py::cast(c.segment_modifier));
    py::list paused;
    for (bool b : c.creative_paused) paused.append(py::bool_(b));
    d["creative_paused"] = py::tuple(paused);
    d["goal"] = GoalName(c.goal);
    d["goal_value"] = c.goal_value;
    campaigns.append(std::move(d));
  }
  py::array_t<double> share({static_cast<py::ssize_t>(s.hourly_traffic_share.size()), py::ssize_t{24}});
  {
    auto m = share.mutable_unchecked<2>();
    for (size_t ch = 0; ch < s.hourly_traffic_share.size(); ++ch)
      for (size_t h = 0; h < 24; ++h)
        m(ch, h) = h < s.hourly_traffic_share[ch].size() ? s.hourly_traffic_share[ch][h] : 0.0;
  }
  share.attr("setflags")(py::arg("write") = false);
  py::dict d;
  d["time"] = s.time;
  d["day_start"] = s.day_start;
  d["control_cycle"] = s.control_cycle;
  d["num_channels"] = s.num_channels;
  d["num_segments"] = s.num_segments;
  d["num_creatives"] = py::tuple(py::cast(s.num_creatives));
  d["cell_offset"] = py::tuple(py::cast(s.cell_offset));
  d["campaigns"] = std::move(campaigns);
  d["total"] = counters(s.total);
  d["last_cycle"] = counters(s.last_cycle);
  d["today"] = counters(s.today);
  d["hourly_traffic_share"] = std::move(share);
  py::list channels, segments;
  for (const auto& n : s.channel_names) channels.append(Utf8(n));
  for (const auto& n : s.segment_names) segments.append(Utf8(n));
  d["channel_names"] = py::tuple(channels);
  d["segment_names"] = py::tuple(segments);
  py::list alerts;
  for (const Alert& a : s.alerts) {
    py::dict x;
    x["time"] = a.time;
    x["monitor"] = Utf8(a.monitor);
    x["campaign"] = a.campaign;
    x["channel"] = a.channel;
    x["segment"] = a.segment;
    x["creative"] = a.creative;
    x["metric"] = Utf8(a.metric);
    x["value"] = a.value;
    x["expected"] = a.expected;
    x["score"] = a.score;
    x["severity"] = Utf8(a.severity);
    x["message"] = Utf8(a.message);
    alerts.append(std::move(x));
  }
  d["alerts"] = py::tuple(alerts);
  return d;
}

}  // namespace

// The Python Snapshot for `s`, built once per control cycle and run.
py::object PythonSnapshot(const Snapshot& s) {
  RunScope* scope = RunScope::current;
  if (scope && scope->cached && scope->cached_for == &s && scope->cached_time == s.time) return scope->cached;
  py::object snap = py::module_::import("adsim._controller").attr("_make_snapshot")(SnapshotToPython(s));
  if (scope) {
    scope->cached_for = &s;
    scope->cached_time = s.time;
    scope->cached = snap;
  }
  return snap;
}

void BindSnapshot(py::module_& m) {
  (void)m;
  // The numpy structured dtype of one snapshot cell (ObservedStats).
  PYBIND11_NUMPY_DTYPE(ObservedStats, requests, bids, impressions, clicks, conversions, conversion_value, spend);
}

}  // namespace adsim::bindings
