// _adsim: the compiled half of the adsim Python package (STYLE.md rule 8: thin).
//
// What lives here and nowhere else:
//  - running a scenario with the GIL released, converting Results to numpy
//    arrays without copying (each column's vector is moved into a capsule);
//  - writing Results back to HDF5 and formatting the KPI summary, so that files
//    and summaries come from the same C++ code as the command line;
//  - the registry: listing components and registering Python controllers into
//    the same C++ registry as the built-in ones;
//  - the Controller trampoline: a C++ adsim::Controller holding a Python
//    object, taking the GIL only for the duration of its per-cycle call;
//  - translating the C++ error hierarchy to adsim.Error and its subclasses.
// Everything else (DataFrames, KPIs, the Snapshot and Action classes, argument
// checking) is pure Python in python/adsim/.
//
// GIL rules followed throughout: the engine runs without the GIL; any code that
// touches a Python object holds it. Python objects owned by C++ objects that
// may die without the GIL (controllers, registry entries) are released under a
// freshly acquired GIL in their destructors.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/engine.h"
#include "core/error.h"
#include "core/memory_needs.h"
#include "core/registry.h"
#include "core/results.h"
#include "core/scenario.h"
#include "core/strategy.h"
#include "core/summary.h"

namespace py = pybind11;

namespace adsim {
namespace {

// ---------------------------------------------------------------------------
// Python object ownership from C++ code that may run without the GIL.

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

py::object ErrorsModule() { return py::module_::import("adsim._errors"); }

// ---------------------------------------------------------------------------
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
  // Python controllers of that cycle (it is read-only).
  const Snapshot* cached_for = nullptr;
  SimTime cached_time = -1;
  py::object cached;

  RunScope* previous;
  static thread_local RunScope* current;
};
thread_local RunScope* RunScope::current = nullptr;

// Describes and keeps the Python exception `e`, "TypeError: message". Needs the GIL.
std::string KeepPythonError(py::error_already_set& e, bool as_is = false) {
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

// ---------------------------------------------------------------------------
// Conversions.

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

const char* GoalName(GoalKind g) { return g == GoalKind::kCpa ? "cpa" : g == GoalKind::kRoas ? "roas" : "none"; }

// A str from bytes that should be UTF-8; invalid bytes are replaced, never fatal.
py::str Utf8(const std::string& s) {
  PyObject* o = PyUnicode_DecodeUTF8(s.data(), static_cast<Py_ssize_t>(s.size()), "replace");
  if (!o) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(o);
}

// A numpy array that owns `v`'s buffer (moved into a capsule): no copy.
template <class T>
py::array OwnedArray(std::vector<T>&& v) {
  auto* heap = new std::vector<T>(std::move(v));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({static_cast<py::ssize_t>(heap->size())}, {static_cast<py::ssize_t>(sizeof(T))}, heap->data(),
                        owner);
}

// {"tables": [{"name", "description", "columns": [{"name", "unit", "description", "data"}]}],
//  "attrs": {...}}: the raw layout python/adsim/_result.py builds DataFrames from.
py::dict ResultsToPython(Results&& r) {
  py::list tables;
  for (Table& t : r.tables) {
    py::list columns;
    for (Column& c : t.columns()) {
      py::object data;
      if (auto* v = std::get_if<std::vector<int64_t>>(&c.data)) {
        data = OwnedArray(std::move(*v));
      } else if (auto* v = std::get_if<std::vector<double>>(&c.data)) {
        data = OwnedArray(std::move(*v));
      } else {
        const auto& s = std::get<std::vector<std::string>>(c.data);
        py::list items(s.size());
        for (size_t i = 0; i < s.size(); ++i) items[i] = Utf8(s[i]);
        data = std::move(items);
      }
      py::dict col;
      col["name"] = Utf8(c.name);
      col["unit"] = Utf8(c.unit);
      col["description"] = Utf8(c.description);
      col["data"] = std::move(data);
      columns.append(std::move(col));
    }
    py::dict table;
    table["name"] = Utf8(t.name());
    table["description"] = Utf8(t.description());
    table["columns"] = std::move(columns);
    tables.append(std::move(table));
  }
  py::dict attrs;
  for (const auto& [k, v] : r.text_attrs) attrs[Utf8(k)] = Utf8(v);
  for (const auto& [k, v] : r.int_attrs) attrs[Utf8(k)] = py::int_(v);
  for (const auto& [k, v] : r.real_attrs) attrs[Utf8(k)] = py::float_(v);
  py::dict out;
  out["tables"] = std::move(tables);
  out["attrs"] = std::move(attrs);
  return out;
}

// The inverse of ResultsToPython, for saving and summaries. `only`, if not
// empty, restricts the tables converted. Needs the GIL.
Results ResultsFromPython(const py::dict& raw, const std::vector<std::string>& only = {}) {
  Results r;
  for (py::handle th : raw["tables"].cast<py::list>()) {
    const py::dict t = th.cast<py::dict>();
    const std::string name = t["name"].cast<std::string>();
    if (!only.empty() && std::find(only.begin(), only.end(), name) == only.end()) continue;
    Table& table = r.Add(name, t["description"].cast<std::string>());
    for (py::handle ch : t["columns"].cast<py::list>()) {
      const py::dict c = ch.cast<py::dict>();
      const std::string cname = c["name"].cast<std::string>();
      const std::string unit = c["unit"].cast<std::string>();
      const std::string desc = c["description"].cast<std::string>();
      const py::array a = py::array::ensure(c["data"]);
      if (!a) throw DataError("table '" + name + "', column '" + cname + "': not array-like");
      const char kind = a.dtype().kind();
      if (kind == 'i' || kind == 'u' || kind == 'b') {
        const auto v = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(a);
        if (!v || v.ndim() != 1)
          throw DataError("table '" + name + "', column '" + cname + "': expected a 1-D integer column");
        table.Int(cname, unit, desc).assign(v.data(), v.data() + v.size());
      } else if (kind == 'f') {
        const auto v = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(a);
        if (!v || v.ndim() != 1)
          throw DataError("table '" + name + "', column '" + cname + "': expected a 1-D real column");
        table.Real(cname, unit, desc).assign(v.data(), v.data() + v.size());
      } else if (kind == 'O' || kind == 'U' || kind == 'S') {
        auto& out = table.Text(cname, desc);
        out.reserve(static_cast<size_t>(a.size()));
        for (py::handle item : c["data"]) {
          if (py::isinstance<py::bytes>(item))
            out.push_back(item.cast<std::string>());
          else
            out.push_back(py::str(item).cast<std::string>());
        }
      } else {
        throw DataError("table '" + name + "', column '" + cname + "': unsupported dtype kind '" +
                        std::string(1, kind) + "'");
      }
    }
    table.CheckShape();
  }
  for (auto [k, v] : raw["attrs"].cast<py::dict>()) {
    const std::string key = py::str(k).cast<std::string>();
    if (py::isinstance<py::bool_>(v) || py::isinstance<py::int_>(v))
      r.int_attrs[key] = v.cast<int64_t>();
    else if (py::isinstance<py::float_>(v))
      r.real_attrs[key] = v.cast<double>();
    else if (py::hasattr(v, "dtype") && py::str(v.attr("dtype").attr("kind")).cast<std::string>() == "i")
      r.int_attrs[key] = v.cast<int64_t>();
    else if (py::hasattr(v, "dtype") && py::str(v.attr("dtype").attr("kind")).cast<std::string>() == "f")
      r.real_attrs[key] = v.cast<double>();
    else
      r.text_attrs[key] = py::str(v).cast<std::string>();
  }
  return r;
}

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

// ---------------------------------------------------------------------------
// The Controller trampoline.

// A C++ controller that forwards each cycle to a Python adapter object
// (adsim._controller._Adapter), which calls the user's on_cycle() and returns
// plain tuples (kind, campaign, segment, creative, value, reason, review).
class PythonController final : public Controller {
 public:
  PythonController(std::string name, py::object adapter) : name_(std::move(name)), adapter_(std::move(adapter)) {}
  ~PythonController() override {
    if (!Py_IsInitialized()) {
      adapter_.release();
      return;
    }
    py::gil_scoped_acquire gil;
    adapter_ = py::object();
  }
  PythonController(const PythonController&) = delete;
  PythonController& operator=(const PythonController&) = delete;

  void OnCycle(const Snapshot& snapshot, int campaign, std::vector<Action>* actions) override {
    py::gil_scoped_acquire gil;
    std::string where = "Python controller '" + name_ + "'";
    if (campaign >= 0 && campaign < static_cast<int>(snapshot.campaigns.size()))
      where += " (campaign " + std::to_string(campaign) + " '" + snapshot.campaigns[campaign].name + "')";
    where += " at simulated time " + FormatDuration(snapshot.time);
    try {
      const py::object out = adapter_.attr("_on_cycle")(PythonSnapshot(snapshot));
      for (py::handle item : out) {
        const auto t = item.cast<py::tuple>();
        Action a;
        const int kind = t[0].cast<int>();
        if (kind < 0 || kind >= kNumActionKinds)
          throw Error(where + " returned an action of unknown kind " + std::to_string(kind));
        a.kind = static_cast<ActionKind>(kind);
        a.campaign = t[1].cast<int>();
        a.segment = t[2].cast<int>();
        a.creative = t[3].cast<int>();
        a.value = t[4].cast<double>();
        a.reason = t[5].cast<std::string>();
        a.review = t.size() > 6 && t[6].cast<bool>();
        actions->push_back(std::move(a));
      }
    } catch (py::error_already_set& e) {
      const std::string what = KeepPythonError(e, e.matches(PyExc_KeyboardInterrupt));
      throw Error(where + " raised " + what);
    } catch (const py::cast_error& e) {
      throw Error(where + " returned an action adsim cannot read: " + e.what());
    }
  }

 private:
  std::string name_;
  py::object adapter_;
};

// Registers (or replaces) a Python controller in the C++ registry.
// `params`: [{"name", "kind": "number"|"bool"|"string", "default", "description", "min", "max",
//             "choices" (strings only, optional)}].
// `factory(params: dict, campaign: int, where: str)` returns the adapter.
void RegisterController(const std::string& name, const std::string& description, const py::list& params,
                        bool campaign_scoped, const py::object& factory) {
  ComponentInfo info;
  info.name = name;
  info.kind = ComponentKind::kController;
  info.description = description;
  info.campaign_scoped = campaign_scoped;
  info.origin = "Python";
  for (py::handle h : params) {
    const py::dict p = h.cast<py::dict>();
    ParamSpec spec;
    spec.name = p["name"].cast<std::string>();
    spec.description = p["description"].cast<std::string>();
    const std::string kind = p["kind"].cast<std::string>();
    if (kind == "number") {
      spec = NumberParam(spec.name, p["default"].cast<double>(), spec.description, p["min"].cast<double>(),
                         p["max"].cast<double>());
    } else if (kind == "bool") {
      spec = BoolParam(spec.name, p["default"].cast<bool>(), spec.description);
    } else if (kind == "string") {
      spec = StringParam(
          spec.name, p["default"].cast<std::string>(), spec.description,
          p.contains("choices") ? p["choices"].cast<std::vector<std::string>>() : std::vector<std::string>{});
    } else {
      throw ConfigError("controller '" + name + "', parameter '" + spec.name + "': unknown kind '" + kind + "'");
    }
    info.params.push_back(std::move(spec));
  }
  auto holder = std::make_shared<GilObject>(factory);
  info.make_controller = [holder, name](const BuildContext& ctx) -> std::unique_ptr<Controller> {
    py::gil_scoped_acquire gil;
    try {
      py::dict values;
      for (const auto& [k, v] : ctx.params.values()) values[Utf8(k)] = ParamToPython(v);
      py::object adapter = holder->get()(values, ctx.campaign, ctx.where);
      return std::make_unique<PythonController>(name, std::move(adapter));
    } catch (py::error_already_set& e) {
      // A ConfigError raised by the constructor (parameter checks) is reported
      // like any other scenario problem, at the component's field path.
      if (e.matches(ErrorsModule().attr("ConfigError"))) {
        const std::string msg = py::str(e.value()).cast<std::string>();
        throw ConfigError({{ctx.scenario ? ctx.scenario->source_name : "", ctx.where + ".params", 0,
                            "parameters that Python controller '" + name + "' accepts", msg}});
      }
      const std::string what = KeepPythonError(e, e.matches(PyExc_KeyboardInterrupt));
      throw Error("Python controller '" + name + "' at " + ctx.where + " could not be created: " + what);
    }
  };
  Registry::Global().Add(std::move(info), /*replace=*/true);
}

py::list Components() {
  py::list out;
  for (const Registry::Entry& info : Registry::Global().List()) {
    py::list params;
    for (const ParamSpec& p : info->params) {
      py::dict d;
      d["name"] = Utf8(p.name);
      d["type"] = ParamKindName(p.kind);
      ParamValue def = p.default_value;
      def.kind = p.kind;
      d["default"] = ParamToPython(def);
      d["description"] = Utf8(p.description);
      if (p.kind == ParamValue::Kind::kNumber) {
        d["min"] = p.min <= -1e300 ? py::object(py::none()) : py::object(py::float_(p.min));
        d["max"] = p.max >= 1e300 ? py::object(py::none()) : py::object(py::float_(p.max));
      } else {
        d["min"] = py::none();
        d["max"] = py::none();
      }
      py::list choices;
      for (const auto& c : p.choices) choices.append(Utf8(c));
      d["choices"] = choices.empty() ? py::object(py::none()) : py::object(choices);
      params.append(std::move(d));
    }
    py::dict d;
    d["name"] = Utf8(info->name);
    d["kind"] = ComponentKindName(info->kind);
    d["description"] = Utf8(info->description);
    d["origin"] = Utf8(info->origin);
    d["campaign_scoped"] = info->kind == ComponentKind::kController ? py::object(py::bool_(info->campaign_scoped))
                                                                    : py::object(py::none());
    d["params"] = std::move(params);
    out.append(std::move(d));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Scenarios and runs.

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

// Raises the Python exception kept in `scope` (wrapped in adsim.Error with the
// original as __cause__, or unchanged for KeyboardInterrupt). Needs the GIL.
[[noreturn]] void RaiseKept(RunScope& scope, const std::string& message) {
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

// The Python reviewer of held actions (adsim.run(reviewer=...)), called at each
// decision time with the GIL taken for the call, through adsim._review._decide
// (which builds the HeldAction and reads the answer). Its exceptions abort the
// run like a Python controller's. Captures pointers only (see Run()).
std::function<ReviewDecision(const ReviewRequest&)> PythonReviewer(const py::object* reviewer, RunScope* scope) {
  return [reviewer, scope](const ReviewRequest& q) {
    py::gil_scoped_acquire gil;
    RunScope* saved = RunScope::current;
    RunScope::current = scope;
    const std::string where = "the Python reviewer, deciding " + std::string(ActionKindName(q.kind)) + " of campaign " +
                              std::to_string(q.campaign) + " '" + q.campaign_name + "' held at " +
                              FormatDuration(q.held_time) + ", at simulated time " + FormatDuration(q.time);
    try {
      py::dict d;
      d["time"] = q.time;
      d["held_time"] = q.held_time;
      d["campaign"] = q.campaign;
      d["campaign_name"] = Utf8(q.campaign_name);
      d["kind"] = ActionKindName(q.kind);
      d["segment"] = q.segment;
      d["creative"] = q.creative;
      d["old"] = q.old_value;
      d["requested"] = q.requested;
      d["current"] = q.current;
      d["controller"] = Utf8(q.controller);
      d["reason"] = Utf8(q.reason);
      d["note"] = Utf8(q.hold_note);
      const py::tuple t = py::module_::import("adsim._review").attr("_decide")(*reviewer, d);
      ReviewDecision out;
      out.approve = t[0].cast<bool>();
      if (!t[1].is_none()) out.value = t[1].cast<double>();
      out.note = t[2].cast<std::string>();
      RunScope::current = saved;
      return out;
    } catch (py::error_already_set& e) {
      const std::string what = KeepPythonError(e, e.matches(PyExc_KeyboardInterrupt));
      RunScope::current = saved;
      throw Error(where + " raised " + what);
    }
  };
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

py::dict Run(const std::optional<std::string>& text, const std::string& source_name,
             const std::optional<std::string>& path, std::optional<uint64_t> seed, const std::string& out,
             const py::object& progress, bool check_signals, const py::object& reviewer) {
  RunScope scope;
  RunOptions options;
  options.seed = seed;
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
    const Scenario sc = LoadScenario(text, source_name, path);
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

void WriteResults(const py::dict& raw, const std::string& path) {
  const Results r = ResultsFromPython(raw);
  py::gil_scoped_release release;
  WriteResultsHdf5(r, path);
}

std::string Summary(const py::dict& raw) {
  return FormatSummary(ResultsFromPython(raw, {"campaigns", "aggregates", "daily", "actions"}));
}

// ---------------------------------------------------------------------------
// Errors: one Python class per C++ kind, defined in adsim/_errors.py.

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
}  // namespace adsim

PYBIND11_MODULE(_adsim, m) {
  using namespace adsim;
  m.doc() = "adsim's compiled core. Use the adsim package, not this module.";
  m.attr("__version__") = AdsimVersion();
  m.attr("schema_version") = kSchemaVersion;
  m.attr("boost_version") = BoostVersion();
  // The numpy structured dtype of one snapshot cell (ObservedStats).
  PYBIND11_NUMPY_DTYPE(ObservedStats, requests, bids, impressions, clicks, conversions, conversion_value, spend);

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

  m.def(
      "default_scenario_text", []() { return DefaultScenarioText(); }, "The embedded default scenario (YAML text).");
  m.def("run", &Run, py::arg("text"), py::arg("source_name"), py::arg("path"), py::arg("seed"), py::arg("out"),
        py::arg("progress"), py::arg("check_signals"), py::arg("reviewer") = py::none(),
        "Parses and runs a scenario with the GIL released; returns the raw result layout.");
  m.def("validate", &Validate, py::arg("text"), py::arg("source_name"), py::arg("path"),
        "Parses a scenario and resolves its components; returns a short description.");
  m.def("write_results", &WriteResults, py::arg("raw"), py::arg("path"),
        "Writes a raw result layout to HDF5 (temporary file, then rename).");
  m.def("format_summary", &Summary, py::arg("raw"), "The KPI summary printed by `adsim run`.");
  m.def("components", &Components, "Every registered bidder and controller.");
  m.def("register_controller", &RegisterController, py::arg("name"), py::arg("description"), py::arg("params"),
        py::arg("campaign_scoped"), py::arg("factory"),
        "Registers (or replaces) a Python controller in the C++ registry.");
  m.def(
      "action_kinds",
      []() {
        py::dict d;
        for (int k = 0; k < kNumActionKinds; ++k) d[ActionKindName(static_cast<ActionKind>(k))] = k;
        return d;
      },
      "Action kind names and their codes.");
}
