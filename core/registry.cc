#include "core/registry.h"

#include <algorithm>
#include <sstream>

#include "core/error.h"

namespace adsim {

const char* ComponentKindName(ComponentKind k) { return k == ComponentKind::kBidder ? "bidder" : "controller"; }

std::string FormatParamValue(const ParamValue& v) {
  switch (v.kind) {
    case ParamValue::Kind::kBool: return v.boolean ? "true" : "false";
    case ParamValue::Kind::kString: return "'" + v.text + "'";
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
  if (!replace && items_.count(key))
    throw ConfigError(std::string("a ") + ComponentKindName(info.kind) + " named '" + info.name +
                      "' is already registered");
  items_[key] = std::move(info);
}

const ComponentInfo* Registry::Find(ComponentKind kind, const std::string& name) const {
  auto it = items_.find({static_cast<int>(kind), name});
  return it == items_.end() ? nullptr : &it->second;
}

std::vector<const ComponentInfo*> Registry::List() const {
  std::vector<const ComponentInfo*> out;
  for (const auto& [k, v] : items_) out.push_back(&v);
  return out;
}

const ComponentInfo& Registry::Require(ComponentKind kind, const ComponentSpec& spec, const std::string& file) const {
  const ComponentInfo* info = Find(kind, spec.type);
  if (!info) {
    std::string names;
    for (const auto& [k, v] : items_)
      if (k.first == static_cast<int>(kind)) names += (names.empty() ? "" : ", ") + v.name;
    throw ConfigError({{file, spec.where + ".type", spec.line, std::string("a registered ") + ComponentKindName(kind) +
                                                           ": one of " + names,
                        "'" + spec.type + "'"}});
  }
  return *info;
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
