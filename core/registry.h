// The component registry: every bidder and controller registers itself in its
// own file with a name, a one-line description and typed parameters with
// defaults (after OpenSpiel's REGISTER_SPIEL_GAME). Unknown names and unknown
// or ill-typed parameters fail with the list of valid ones.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "core/scenario.h"
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
};

struct ComponentInfo {
  std::string name;
  ComponentKind kind = ComponentKind::kBidder;
  std::string description;
  std::vector<ParamSpec> params;
  bool campaign_scoped = true;  // controllers: attached to one campaign, or scenario-wide
  std::string origin = "C++";   // "C++" or "Python"
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

// Checks that every component a scenario names exists, is used in the right
// scope, and accepts the given parameters, as a run would before starting.
// Throws ConfigError listing every problem.
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

}  // namespace adsim
