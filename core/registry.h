// The component registry: every bidder, controller, monitor and experiment
// analysis registers itself in its own file with one line (the
// ADSIM_REGISTER_* macros below): a name, a one-line description and typed
// parameters with defaults (after OpenSpiel's REGISTER_SPIEL_GAME). Unknown
// names and unknown or ill-typed parameters fail with the list of valid ones.
// Like core/strategy.h, it sees only what the advertiser configured
// (core/scenario_public.h), never the truth-holding Scenario.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/journey_observations.h"
#include "core/random.h"
#include "core/scenario_public.h"
#include "core/strategy.h"

namespace adsim {

struct ParamSpec {
  std::string name;
  ParamValue::Kind kind = ParamValue::Kind::kNumber;
  ParamValue default_value;
  std::string description;
  double min = -1e300, max = 1e300;  // numbers only
  std::vector<std::string> choices;  // strings only: the allowed values (empty = any)
};

// Parameters after validation: every declared parameter present, typed.
class Params {
 public:
  Params() = default;
  explicit Params(ParamMap values) : values_(std::move(values)) {}
  double Number(const std::string& name) const;
  bool Bool(const std::string& name) const;
  const std::string& String(const std::string& name) const;
  const ParamMap& values() const { return values_; }

 private:
  ParamMap values_;
};

enum class ComponentKind { kBidder, kController, kMonitor, kAnalysis };

// What a component's factory receives.
struct BuildContext {
  const PublicScenario* scenario = nullptr;  // what the advertiser knows; no truth
  int campaign = -1;                         // -1 for scenario-wide controllers
  Params params;
  std::string where;  // the component's field path, for error messages
  // The component's own stream seed: a component that draws random numbers
  // makes its stream with Stream(stream_seed) (core/random.h). The engine
  // derives it one way from the run seed and the component's path
  // (ComponentStreamPath), so it is fixed by the seed and differs between
  // components, while the run seed, and with it the market's streams and the
  // users' click draws, cannot be computed from it. There is deliberately no
  // field holding the run seed.
  ComponentSeed stream_seed;
  int experiment = -1;  // analyses: index into scenario->experiments
  // Journeys (core/journey_observations.h): points to the run's observations
  // pointer, which the engine sets before the first control cycle (null
  // without journeys, and when only validating). Read it at a cycle, not in
  // the constructor.
  const JourneyObservations* const* journeys = nullptr;
};

struct ComponentInfo {
  std::string name;
  ComponentKind kind = ComponentKind::kBidder;
  std::string description;
  std::vector<ParamSpec> params;
  bool campaign_scoped = true;  // controllers: attached to one campaign, or scenario-wide
  std::string origin = "C++";   // "C++" or "Python"
  // Shipped with adsim: registered by an ADSIM_REGISTER_* macro (strategies/).
  // Components a test binary registers for itself leave it false.
  bool built_in = false;
  std::function<std::unique_ptr<Bidder>(const BuildContext&)> make_bidder;
  std::function<std::unique_ptr<Controller>(const BuildContext&)> make_controller;
  std::function<std::unique_ptr<Monitor>(const BuildContext&)> make_monitor;              // monitors only
  std::function<std::unique_ptr<ExperimentAnalysis>(const BuildContext&)> make_analysis;  // analyses only
};

// Thread-safe: entries are immutable and shared, so a run that looked a
// component up keeps using it even if Python registers a replacement meanwhile.
class Registry {
 public:
  using Entry = std::shared_ptr<const ComponentInfo>;
  static Registry& Global();
  // Throws ConfigError if the name is taken (unless replace is set).
  void Add(ComponentInfo info, bool replace = false);
  Entry Find(ComponentKind kind, const std::string& name) const;  // null if unknown
  std::vector<Entry> List() const;                                // sorted by kind, then name
  // Validates `spec` against the component's declared parameters (filling
  // defaults) and reports problems at spec.where in `file`.
  Params Resolve(const ComponentInfo& info, const ComponentSpec& spec, const std::string& file) const;
  // Like Find, but an unknown name is a ConfigError listing the valid ones.
  Entry Require(ComponentKind kind, const ComponentSpec& spec, const std::string& file) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<int, std::string>, Entry> items_;
};

struct Scenario;  // core/scenario.h: the whole scenario, truth included

// Checks that every component a scenario names exists, is used in the right
// scope, and accepts the given parameters, as a run would before starting.
// Throws ConfigError listing every problem. (Callers hold a whole Scenario,
// so they include core/scenario.h; this header does not.)
void ValidateComponents(const Scenario& scenario);

const char* ComponentKindName(ComponentKind k);

// The path a component's stream seed is derived from: "components/<field
// path>/<registered name>", e.g. "components/campaigns[1].bidder/throttled".
// Unique per component in a scenario, and never the path of a market stream.
std::string ComponentStreamPath(const std::string& where, const std::string& name);
std::string FormatParamValue(const ParamValue& v);

// Registers at static-initialisation time. The folders holding components are
// CMake OBJECT libraries, so these registrations are never dropped by the linker.
struct Registration {
  explicit Registration(ComponentInfo info) { Registry::Global().Add(std::move(info)); }
};

inline ParamSpec NumberParam(std::string name, double def, std::string description, double lo = -1e300,
                             double hi = 1e300) {
  ParamSpec p;
  p.name = std::move(name);
  p.kind = ParamValue::Kind::kNumber;
  p.default_value.number = def;
  p.description = std::move(description);
  p.min = lo;
  p.max = hi;
  return p;
}
inline ParamSpec StringParam(std::string name, std::string def, std::string description,
                             std::vector<std::string> choices = {}) {
  ParamSpec p;
  p.choices = std::move(choices);
  p.name = std::move(name);
  p.kind = ParamValue::Kind::kString;
  p.default_value.kind = ParamValue::Kind::kString;
  p.default_value.text = std::move(def);
  p.description = std::move(description);
  return p;
}
inline ParamSpec BoolParam(std::string name, bool def, std::string description) {
  ParamSpec p;
  p.name = std::move(name);
  p.kind = ParamValue::Kind::kBool;
  p.default_value.kind = ParamValue::Kind::kBool;
  p.default_value.boolean = def;
  p.description = std::move(description);
  return p;
}

// ---- One-line registration ------------------------------------------------
// In a component's own file, at namespace scope:
//
//   ADSIM_REGISTER_BIDDER(FixedBidder, "fixed", "Bids the campaign's base bid.");
//   ADSIM_REGISTER_CONTROLLER(PidPacing, "pid_pacing", "PID pacing ...",
//                             NumberParam("kp", 3.0, "proportional gain", 0, 100), ...);
//
// The arguments are the class, its registered name, a one-line description,
// then its parameters: none, ParamSpecs (NumberParam, StringParam,
// BoolParam), or one expression giving a std::vector<ParamSpec>. The class is
// built with its (const BuildContext&) constructor, or its default one if it
// has none. One macro per kind:
//   ADSIM_REGISTER_BIDDER                per opportunity, one campaign
//   ADSIM_REGISTER_CONTROLLER            per control cycle, one campaign
//   ADSIM_REGISTER_SCENARIO_CONTROLLER   per control cycle, the whole scenario
//   ADSIM_REGISTER_MONITOR               alerts, the whole scenario
//   ADSIM_REGISTER_ANALYSIS              an experiment's analysis
// A component they cannot express (a Python one, a test's) fills a
// ComponentInfo and constructs a Registration itself.

// The factory of a kind's interface `Base` that builds `Type`.
template <class Type, class Base>
std::function<std::unique_ptr<Base>(const BuildContext&)> FactoryOf() {
  static_assert(std::is_base_of_v<Base, Type>, "the registered class does not implement this kind's interface");
  return [](const BuildContext& context) -> std::unique_ptr<Base> {
    if constexpr (std::is_constructible_v<Type, const BuildContext&>)
      return std::make_unique<Type>(context);
    else
      return std::make_unique<Type>();
  };
}

// A built-in component's entry: what the macros register.
inline ComponentInfo BuiltInComponent(std::string name, ComponentKind kind, std::string description,
                                      std::vector<ParamSpec> params, bool campaign_scoped) {
  ComponentInfo info;
  info.name = std::move(name);
  info.kind = kind;
  info.description = std::move(description);
  info.params = std::move(params);
  info.campaign_scoped = campaign_scoped;
  info.origin = "C++";
  info.built_in = true;
  return info;
}

template <class Type>
ComponentInfo BidderComponent(std::string name, std::string description, std::vector<ParamSpec> params = {}) {
  ComponentInfo info = BuiltInComponent(std::move(name), ComponentKind::kBidder, std::move(description),
                                        std::move(params), /*campaign_scoped=*/true);
  info.make_bidder = FactoryOf<Type, Bidder>();
  return info;
}
template <class Type>
ComponentInfo ControllerComponent(std::string name, std::string description, std::vector<ParamSpec> params,
                                  bool campaign_scoped) {
  ComponentInfo info = BuiltInComponent(std::move(name), ComponentKind::kController, std::move(description),
                                        std::move(params), campaign_scoped);
  info.make_controller = FactoryOf<Type, Controller>();
  return info;
}
template <class Type>
ComponentInfo MonitorComponent(std::string name, std::string description, std::vector<ParamSpec> params = {}) {
  ComponentInfo info = BuiltInComponent(std::move(name), ComponentKind::kMonitor, std::move(description),
                                        std::move(params), /*campaign_scoped=*/false);
  info.make_monitor = FactoryOf<Type, Monitor>();
  return info;
}
template <class Type>
ComponentInfo AnalysisComponent(std::string name, std::string description, std::vector<ParamSpec> params = {}) {
  ComponentInfo info = BuiltInComponent(std::move(name), ComponentKind::kAnalysis, std::move(description),
                                        std::move(params), /*campaign_scoped=*/false);
  info.make_analysis = FactoryOf<Type, ExperimentAnalysis>();
  return info;
}

}  // namespace adsim

#define ADSIM_REGISTRATION_CONCAT_INNER_(a, b) a##b
#define ADSIM_REGISTRATION_CONCAT_(a, b) ADSIM_REGISTRATION_CONCAT_INNER_(a, b)
#define ADSIM_REGISTRATION_(info) \
  static const ::adsim::Registration ADSIM_REGISTRATION_CONCAT_(adsim_registration_, __LINE__)(info)

#define ADSIM_REGISTER_BIDDER(Type, name, description, ...) \
  ADSIM_REGISTRATION_(::adsim::BidderComponent<Type>(name, description, {__VA_ARGS__}))
#define ADSIM_REGISTER_CONTROLLER(Type, name, description, ...) \
  ADSIM_REGISTRATION_(::adsim::ControllerComponent<Type>(name, description, {__VA_ARGS__}, true))
#define ADSIM_REGISTER_SCENARIO_CONTROLLER(Type, name, description, ...) \
  ADSIM_REGISTRATION_(::adsim::ControllerComponent<Type>(name, description, {__VA_ARGS__}, false))
#define ADSIM_REGISTER_MONITOR(Type, name, description, ...) \
  ADSIM_REGISTRATION_(::adsim::MonitorComponent<Type>(name, description, {__VA_ARGS__}))
#define ADSIM_REGISTER_ANALYSIS(Type, name, description, ...) \
  ADSIM_REGISTRATION_(::adsim::AnalysisComponent<Type>(name, description, {__VA_ARGS__}))
