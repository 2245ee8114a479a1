// Owns Python controllers and the registry as Python sees it: the trampoline
// (a C++ adsim::Controller holding a Python adapter object, taking the GIL
// only for its per-cycle call), registering Python controllers into the same
// C++ registry as the built-in components, and listing every component.
// All code that fills a ComponentInfo for Python lives in RegisterController.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/registry.h"
#include "core/scenario.h"
#include "core/strategy.h"
#include "core/types.h"
#include "python/bindings/conversions.h"
#include "python/bindings/gil.h"
#include "python/bindings/module.h"

namespace adsim::bindings {
namespace {

// Marks `snapshot` as the one a Python controller is reading, for as long as
// the scope lives (RunScope::reading).
class ReadingScope {
 public:
  explicit ReadingScope(const Snapshot& snapshot) : scope_(RunScope::current) {
    if (scope_) {
      previous_ = scope_->reading;
      scope_->reading = &snapshot;
    }
  }
  ~ReadingScope() {
    if (scope_) scope_->reading = previous_;
  }
  ReadingScope(const ReadingScope&) = delete;
  ReadingScope& operator=(const ReadingScope&) = delete;

 private:
  RunScope* scope_;
  const Snapshot* previous_ = nullptr;
};

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
    ReadingScope reading(snapshot);
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
        // Why it was taken (metric, observed, threshold); None is NaN.
        if (t.size() > 9) {
          a.metric = t[7].cast<std::string>();
          if (!t[8].is_none()) a.observed = t[8].cast<double>();
          if (!t[9].is_none()) a.threshold = t[9].cast<double>();
        }
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
// `params`: see ParamSpecsFromPython.
// `factory(params: dict, campaign: int, where: str, stream_seed: int)` returns the adapter.
void RegisterController(const std::string& name, const std::string& description, const py::list& params,
                        bool campaign_scoped, const py::object& factory) {
  ComponentInfo info;
  info.name = name;
  info.kind = ComponentKind::kController;
  info.description = description;
  info.campaign_scoped = campaign_scoped;
  info.origin = "Python";
  info.params = ParamSpecsFromPython("controller '" + name + "'", params);
  auto holder = std::make_shared<GilObject>(factory);
  info.make_controller = [holder, name](const BuildContext& ctx) -> std::unique_ptr<Controller> {
    py::gil_scoped_acquire gil;
    try {
      py::dict values;
      for (const auto& [k, v] : ctx.params.values()) values[Utf8(k)] = ParamToPython(v);
      py::object adapter = holder->get()(values, ctx.campaign, ctx.where, ctx.stream_seed.value);
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

}  // namespace

std::vector<ParamSpec> ParamSpecsFromPython(const std::string& what, const py::list& params) {
  std::vector<ParamSpec> specs;
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
      throw ConfigError(what + ", parameter '" + spec.name + "': unknown kind '" + kind + "'");
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

namespace {

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

}  // namespace

void BindControllers(py::module_& m) {
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

}  // namespace adsim::bindings
