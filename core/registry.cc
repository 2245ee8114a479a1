#include "core/registry.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"

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
      if (v->kind == kind && v->name.rfind("test_", 0) != 0) names += (names.empty() ? "" : ", ") + v->name;
    throw ConfigError(
        {{file, spec.where + ".type", spec.line,
          std::string("a registered ") + ComponentKindName(kind) + ": one of " + names, "'" + spec.type + "'"}});
  }
  return info;
}

void ValidateComponents(const Scenario& sc) {
  const Registry& reg = Registry::Global();
  std::vector<ConfigIssue> issues;
  auto check = [&](ComponentKind kind, const ComponentSpec& spec, bool scenario_wide) {
    try {
      const Registry::Entry info = reg.Require(kind, spec, sc.source_name);
      reg.Resolve(*info, spec, sc.source_name);
      if (kind == ComponentKind::kController && scenario_wide == info->campaign_scoped)
        issues.push_back({sc.source_name, spec.where + ".type", spec.line,
                          scenario_wide ? "a scenario-wide controller here; '" + info->name +
                                              "' works on one campaign: list it under campaigns[i].controllers"
                                        : "a per-campaign controller here; '" + info->name +
                                              "' works on the whole scenario: list it under the top-level controllers",
                          "'" + info->name + "'"});
    } catch (const ConfigError& e) {
      issues.insert(issues.end(), e.issues().begin(), e.issues().end());
    }
  };
  for (const auto& c : sc.campaigns) {
    check(ComponentKind::kBidder, c.bidder, false);
    for (const auto& k : c.controllers) check(ComponentKind::kController, k, false);
  }
  for (const auto& k : sc.controllers) check(ComponentKind::kController, k, true);
  for (const auto& k : sc.monitors) check(ComponentKind::kMonitor, k, true);
  for (const auto& e : sc.experiments)
    for (const auto& k : e.analyses) check(ComponentKind::kAnalysis, k, true);
  if (!issues.empty()) throw ConfigError(issues);
}

Params Registry::Resolve(const ComponentInfo& info, const ComponentSpec& spec, const std::string& file) const {
  std::vector<ConfigIssue> issues;
  ParamMap out;
  std::string declared;
  for (const auto& p : info.params) declared += (declared.empty() ? "" : ", ") + p.name;
  for (const auto& [name, value] : spec.params) {
    auto it = std::find_if(info.params.begin(), info.params.end(), [&](const ParamSpec& p) { return p.name == name; });
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
      } else if (p.kind == ParamValue::Kind::kNumber && (given.number < p.min || given.number > p.max)) {
        std::ostringstream os;
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
