#include "core/registry.h"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "core/error.h"
#include "core/scenario.h"

namespace adsim {

const char* ComponentKindName(ComponentKind k) {
  switch (k) {
    case ComponentKind::kBidder:
      return "bidder";
    case ComponentKind::kController:
      return "controller";
    case ComponentKind::kMonitor:
      return "monitor";
    case ComponentKind::kAnalysis:
      return "analysis";
  }
  return "?";
}

std::string ComponentStreamPath(const std::string& where, const std::string& name) {
  return "components/" + where + "/" + name;
}

std::string FormatParamValue(const ParamValue& v) {
  switch (v.kind) {
    case ParamValue::Kind::kBool:
      return v.boolean ? "true" : "false";
    case ParamValue::Kind::kString:
      return "'" + v.text + "'";
    case ParamValue::Kind::kNumber: {
      std::ostringstream os;
      os << v.number;
      return os.str();
    }
  }
  return "";
}

double Params::Number(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.kind != ParamValue::Kind::kNumber)
    throw InvariantError("parameter '" + name + "' was not declared as a number");
  return it->second.number;
}
bool Params::Bool(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.kind != ParamValue::Kind::kBool)
    throw InvariantError("parameter '" + name + "' was not declared as a bool");
  return it->second.boolean;
}
const std::string& Params::String(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.kind != ParamValue::Kind::kString)
    throw InvariantError("parameter '" + name + "' was not declared as a string");
  return it->second.text;
}

namespace {
int LineOf(const ComponentSpec& spec, const std::string& param) {
  auto it = spec.param_lines.find(param);
  return it == spec.param_lines.end() ? spec.line : it->second;
}
}  // namespace

Registry& Registry::Global() {
  static Registry* r = new Registry();  // never destroyed: registrations outlive static teardown
  return *r;
}

void Registry::Add(ComponentInfo info, bool replace) {
  auto key = std::make_pair(static_cast<int>(info.kind), info.name);
  std::lock_guard<std::mutex> lock(mutex_);
  if (!replace && items_.count(key))
    throw ConfigError(std::string("a ") + ComponentKindName(info.kind) + " named '" + info.name +
                      "' is already registered");
  items_[key] = std::make_shared<const ComponentInfo>(std::move(info));
}

Registry::Entry Registry::Find(ComponentKind kind, const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = items_.find({static_cast<int>(kind), name});
  return it == items_.end() ? nullptr : it->second;
}

std::vector<Registry::Entry> Registry::List() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<Entry> out;
  for (const auto& [k, v] : items_) out.push_back(v);
  return out;
}

Registry::Entry Registry::Require(ComponentKind kind, const ComponentSpec& spec, const std::string& file) const {
  Entry info = Find(kind, spec.type);
  if (!info) {
    std::string names;
    for (const Entry& v : List())
      if (v->kind == kind) names += (names.empty() ? "" : ", ") + v->name;
    throw ConfigError(
        {{file, spec.where + ".type", spec.line,
          std::string("a registered ") + ComponentKindName(kind) + ": one of " + names, "'" + spec.type + "'"}});
  }
  return info;
}

namespace {

// The line of a component's issue: the parameter's own line when the path
// names one, else the component's.
int LineOfPath(const ComponentSpec& spec, const std::string& path) {
  const std::string prefix = spec.where + ".params.";
  if (path.compare(0, prefix.size(), prefix) == 0) {
    const std::string rest = path.substr(prefix.size());
    return LineOf(spec, rest.substr(0, rest.find_first_of(".[")));
  }
  return spec.line;
}

// Builds the component once as a run would, and throws nothing: its
// constructor checks parameters against each other and against the scenario
// (a 2^k design, a per-user metric under split: opportunity, a season longer
// than what is kept, ...), and those errors must come before the run starts,
// located like every other scenario error. Python components are not built:
// their factories run the user's code; their parameters are still resolved.
void CheckBuild(const ComponentInfo& info, const ComponentSpec& spec, const Params& params,
                const PublicScenario& scenario, int campaign, int experiment, std::vector<ConfigIssue>* issues) {
  if (info.origin != "C++") return;
  const std::string& file = scenario.source_name;
  BuildContext ctx;
  ctx.scenario = &scenario;
  ctx.campaign = campaign;
  ctx.params = params;
  ctx.where = spec.where;
  ctx.experiment = experiment;
  auto report = [&](const std::string& message) {
    issues->push_back({file, spec.where, spec.line, "parameters that '" + info.name + "' accepts", message});
  };
  try {
    switch (info.kind) {
      case ComponentKind::kBidder:
        if (info.make_bidder) info.make_bidder(ctx);
        break;
      case ComponentKind::kController:
        if (info.make_controller) info.make_controller(ctx);
        break;
      case ComponentKind::kMonitor:
        if (info.make_monitor) info.make_monitor(ctx);
        break;
      case ComponentKind::kAnalysis:
        if (info.make_analysis) {
          const std::unique_ptr<ExperimentAnalysis> analysis = info.make_analysis(ctx);
          if (analysis->WantsUserCounts() && experiment >= 0 &&
              !scenario.experiments[static_cast<size_t>(experiment)].split_by_user)
            issues->push_back({file, spec.where, spec.line,
                               "an analysis by request (unit: request) under split: opportunity, or split: user",
                               "an analysis by user under split: opportunity (a user sees several arms)"});
        }
        break;
    }
  } catch (const ConfigError& e) {
    if (e.issues().empty()) report(e.what());
    for (ConfigIssue issue : e.issues()) {
      if (issue.file.empty()) issue.file = file;
      if (issue.path.empty()) issue.path = spec.where;
      if (issue.line <= 0) issue.line = LineOfPath(spec, issue.path);
      issues->push_back(std::move(issue));
    }
  } catch (const std::invalid_argument& e) {  // the numeric helpers' own argument checks
    report(e.what());
  } catch (const std::out_of_range& e) {
    report(e.what());
  }
}

}  // namespace

void ValidateComponents(const Scenario& sc) {
  const Registry& reg = Registry::Global();
  const PublicScenario scenario = MakePublicScenario(sc);
  std::vector<ConfigIssue> issues;
  auto check = [&](ComponentKind kind, const ComponentSpec& spec, bool scenario_wide, int campaign, int experiment) {
    try {
      const Registry::Entry info = reg.Require(kind, spec, sc.source_name);
      const Params params = reg.Resolve(*info, spec, sc.source_name);
      if (kind == ComponentKind::kController && scenario_wide == info->campaign_scoped) {
        issues.push_back({sc.source_name, spec.where + ".type", spec.line,
                          scenario_wide ? "a scenario-wide controller here; '" + info->name +
                                              "' works on one campaign: list it under campaigns[i].controllers"
                                        : "a per-campaign controller here; '" + info->name +
                                              "' works on the whole scenario: list it under the top-level controllers",
                          "'" + info->name + "'"});
        return;
      }
      CheckBuild(*info, spec, params, scenario, campaign, experiment, &issues);
    } catch (const ConfigError& e) {
      issues.insert(issues.end(), e.issues().begin(), e.issues().end());
    }
  };
  for (size_t c = 0; c < sc.campaigns.size(); ++c) {
    check(ComponentKind::kBidder, sc.campaigns[c].bidder, false, static_cast<int>(c), -1);
    for (const auto& k : sc.campaigns[c].controllers)
      check(ComponentKind::kController, k, false, static_cast<int>(c), -1);
  }
  for (const auto& k : sc.controllers) check(ComponentKind::kController, k, true, -1, -1);
  for (const auto& k : sc.monitors) check(ComponentKind::kMonitor, k, true, -1, -1);
  for (size_t e = 0; e < sc.experiments.size(); ++e)
    for (const auto& k : sc.experiments[e].analyses) check(ComponentKind::kAnalysis, k, true, -1, static_cast<int>(e));
  if (!issues.empty()) throw ConfigError(issues);
}

Params Registry::Resolve(const ComponentInfo& info, const ComponentSpec& spec, const std::string& file) const {
  std::vector<ConfigIssue> issues;
  ParamMap out;
  std::string declared;
  for (const auto& p : info.params) declared += (declared.empty() ? "" : ", ") + p.name;
  for (const auto& [name, value] : spec.params) {
    auto it = std::find_if(info.params.begin(), info.params.end(),
                           [&key = name](const ParamSpec& p) { return p.name == key; });
    if (it == info.params.end()) {
      issues.push_back({file, spec.where + ".params." + name, LineOf(spec, name),
                        "a parameter of '" + info.name + "': " + (declared.empty() ? "(it takes none)" : declared),
                        "unknown parameter '" + name + "'"});
    }
  }
  for (const auto& p : info.params) {
    auto it = spec.params.find(p.name);
    ParamValue v = p.default_value;
    v.kind = p.kind;
    if (it != spec.params.end()) {
      const ParamValue& given = it->second;
      const std::string where = spec.where + ".params." + p.name;
      if (given.kind != p.kind) {
        const char* want = p.kind == ParamValue::Kind::kNumber ? "a number"
                           : p.kind == ParamValue::Kind::kBool ? "true or false"
                                                               : "a string";
        issues.push_back({file, where, LineOf(spec, p.name), want, FormatParamValue(given)});
      } else if (p.kind == ParamValue::Kind::kNumber && !(given.number >= p.min && given.number <= p.max)) {
        // Written so that NaN fails too (every comparison with NaN is false);
        // +-inf fails unless a bound is itself infinite.
        std::ostringstream os;
        if (p.min <= -1e300 && p.max >= 1e300)
          os << "a finite number";
        else
          os << "a number in [" << p.min << ", " << p.max << "]";
        issues.push_back({file, where, LineOf(spec, p.name), os.str(), FormatParamValue(given)});
      } else if (p.kind == ParamValue::Kind::kString && !p.choices.empty() &&
                 std::find(p.choices.begin(), p.choices.end(), given.text) == p.choices.end()) {
        std::string valid;
        for (const auto& c : p.choices) valid += (valid.empty() ? "" : ", ") + c;
        issues.push_back({file, where, LineOf(spec, p.name), "one of " + valid, FormatParamValue(given)});
      } else {
        v = given;
      }
    }
    out[p.name] = v;
  }
  if (!issues.empty()) throw ConfigError(issues);
  return Params(out);
}

}  // namespace adsim
