// Owns the Python view of a control cycle's Snapshot: the dict
// python/adsim/_controller.py turns into an adsim.Snapshot, built once per
// cycle and run and shared by that cycle's Python controllers. It is built
// from core/snapshot_fields.h, the one list of the fields of Snapshot,
// CampaignState, Alert and ObservedStats, so every C++ field reaches Python
// by construction; snapshot_leaves() flattens the C++ snapshot a Python
// controller is reading, for the field-by-field parity test
// (tests/python/test_snapshot_parity.py).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "core/snapshot_fields.h"
#include "core/strategy.h"
#include "python/bindings/conversions.h"
#include "python/bindings/gil.h"
#include "python/bindings/module.h"

namespace adsim::bindings {
namespace {

const char* GoalName(GoalKind g) { return g == GoalKind::kCpa ? "cpa" : g == GoalKind::kRoas ? "roas" : "none"; }

// ---------------------------------------------------------------------------
// Field values as Python objects: one overload per type the four structs hold.

py::object ToPython(int v) { return py::int_(v); }
py::object ToPython(int64_t v) { return py::int_(v); }
py::object ToPython(double v) { return py::float_(v); }
py::object ToPython(bool v) { return py::bool_(v); }
py::object ToPython(const std::string& v) { return Utf8(v); }
py::object ToPython(GoalKind v) { return py::str(GoalName(v)); }
py::object ToPython(const std::vector<bool>& v);
py::object ToPython(const std::vector<ObservedStats>& v);
py::object ToPython(const std::vector<std::vector<double>>& v);
template <class Struct>
py::object ToPython(const Struct& s, decltype(SnapshotFields<Struct>::kName) = nullptr);

// Any other vector: a tuple of its elements.
template <class T>
py::object ToPython(const std::vector<T>& v) {
  py::tuple out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = ToPython(v[i]);
  return out;
}

py::object ToPython(const std::vector<bool>& v) {
  py::tuple out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = py::bool_(v[i]);
  return out;
}

// A struct with a field list: a dict of its fields.
template <class Struct>
py::object ToPython(const Struct& s, decltype(SnapshotFields<Struct>::kName)) {
  py::dict d;
  SnapshotFields<Struct>::ForEach([&](const char* name, auto member) { d[name] = ToPython(s.*member); });
  return d;
}

// The numpy structured dtype of one cell's counters, from the field list (so
// a new counter appears in Python without being named here).
py::dtype CounterDtype() {
  static const ObservedStats probe{};
  py::list names, formats, offsets;
  SnapshotFields<ObservedStats>::ForEach([&](const char* name, auto member) {
    using Field = std::remove_reference_t<decltype(probe.*member)>;
    names.append(name);
    formats.append(py::dtype::of<Field>());
    offsets.append(reinterpret_cast<const char*>(&(probe.*member)) - reinterpret_cast<const char*>(&probe));
  });
  py::dict spec;
  spec["names"] = names;
  spec["formats"] = formats;
  spec["offsets"] = offsets;
  spec["itemsize"] = sizeof(ObservedStats);
  return py::dtype::from_args(spec);
}

// Per-cell counters: a read-only structured array, one record per cell (one
// memcpy per table and cycle).
py::object ToPython(const std::vector<ObservedStats>& v) {
  static_assert(std::is_trivially_copyable_v<ObservedStats> && std::is_standard_layout_v<ObservedStats>);
  py::array a(CounterDtype(), py::array::ShapeContainer{static_cast<py::ssize_t>(v.size())});
  if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(ObservedStats));
  a.attr("setflags")(py::arg("write") = false);
  return a;
}

// A table of reals (hourly_traffic_share: channels x 24): a read-only 2-D
// array, rows padded with 0 to the longest.
py::object ToPython(const std::vector<std::vector<double>>& v) {
  size_t width = 0;
  for (const auto& row : v) width = std::max(width, row.size());
  py::array_t<double> a({static_cast<py::ssize_t>(v.size()), static_cast<py::ssize_t>(width)});
  auto m = a.mutable_unchecked<2>();
  for (size_t r = 0; r < v.size(); ++r)
    for (size_t c = 0; c < width; ++c) m(r, c) = c < v[r].size() ? v[r][c] : 0.0;
  a.attr("setflags")(py::arg("write") = false);
  return a;
}

// ---------------------------------------------------------------------------
// Leaves: the snapshot flattened to {"campaigns[0].creative_weight[1]": 1.0, ...},
// one entry per scalar, walking the field lists (independent of the Python
// view, which the parity test compares it to).

template <class T>
void AddLeaves(const std::string& path, const T& value, py::dict& out);

template <class Struct>
void AddStructLeaves(const std::string& path, const Struct& s, py::dict& out) {
  SnapshotFields<Struct>::ForEach([&](const char* name, auto member) {
    AddLeaves(path.empty() ? std::string(name) : path + "." + name, s.*member, out);
  });
}

template <class T>
struct IsVector : std::false_type {};
template <class T, class A>
struct IsVector<std::vector<T, A>> : std::true_type {};

template <class Struct, class = void>
struct HasFieldList : std::false_type {};
template <class Struct>
struct HasFieldList<Struct, std::void_t<decltype(SnapshotFields<Struct>::kName)>> : std::true_type {};

template <class T>
void AddLeaves(const std::string& path, const T& value, py::dict& out) {
  if constexpr (IsVector<T>::value) {
    for (size_t i = 0; i < value.size(); ++i) {
      // A copy on purpose: std::vector<bool> has no references.
      const typename T::value_type element = value[i];  // NOLINT(performance-unnecessary-copy-initialization)
      AddLeaves(path + "[" + std::to_string(i) + "]", element, out);
    }
  } else if constexpr (HasFieldList<T>::value) {
    AddStructLeaves(path, value, out);
  } else {
    out[Utf8(path)] = ToPython(value);
  }
}

py::dict SnapshotLeaves() {
  RunScope* scope = RunScope::current;
  if (!scope || !scope->reading)
    throw py::value_error("snapshot_leaves() is only available inside a Python controller's on_cycle()");
  py::dict out;
  AddStructLeaves(std::string(), *scope->reading, out);
  return out;
}

template <class Struct>
py::tuple FieldNamesOf() {
  py::list names;
  SnapshotFields<Struct>::ForEach([&](const char* name, auto) { names.append(name); });
  return py::tuple(names);
}

py::dict FieldNames() {
  py::dict out;
  out[SnapshotFields<Snapshot>::kName] = FieldNamesOf<Snapshot>();
  out[SnapshotFields<CampaignState>::kName] = FieldNamesOf<CampaignState>();
  out[SnapshotFields<Alert>::kName] = FieldNamesOf<Alert>();
  out[SnapshotFields<ObservedStats>::kName] = FieldNamesOf<ObservedStats>();
  return out;
}

}  // namespace

py::object PythonSnapshot(const Snapshot& s) {
  RunScope* scope = RunScope::current;
  if (scope && scope->cached && scope->cached_for == &s && scope->cached_time == s.time &&
      scope->cached_alerts == s.alerts.size())
    return scope->cached;
  py::object snap = py::module_::import("adsim._controller").attr("_make_snapshot")(ToPython(s));
  if (scope) {
    scope->cached_for = &s;
    scope->cached_time = s.time;
    scope->cached_alerts = s.alerts.size();
    scope->cached = snap;
  }
  return snap;
}

void BindSnapshot(py::module_& m) {
  m.def("snapshot_fields", &FieldNames,
        "The fields of Snapshot, CampaignState, Alert and ObservedStats (core/snapshot_fields.h), by struct.");
  m.def("snapshot_leaves", &SnapshotLeaves,
        "The C++ snapshot a Python controller is reading, flattened to {path: value}; only inside on_cycle().");
}

}  // namespace adsim::bindings
