#include "core/scenario_limits.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <vector>

#include "core/error.h"

namespace adsim {

bool IsValidUtf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    } else {
      return false;
    }
    if (i + static_cast<size_t>(extra) >= n) return false;  // truncated sequence
    if (p[i + 1] < lo || p[i + 1] > hi) return false;
    for (int k = 2; k <= extra; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xBF) return false;
    i += static_cast<size_t>(extra) + 1;
  }
  return true;
}

void CheckScenarioSize(const std::string& text, const std::string& source_name) {
  if (text.size() > ScenarioLimits::kMaxBytes)
    throw ConfigError(
        {{source_name, "", 0, "a scenario of at most " + std::to_string(ScenarioLimits::kMaxBytes) + " bytes (1 MiB)",
          std::to_string(text.size()) + " bytes"}});
}

namespace {

// Printable ASCII as is, every other byte as \xNN, at most 40 bytes: a message
// must stay valid UTF-8 and readable whatever the input held.
std::string Escaped(const std::string& s) {
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < 40; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  return out + (s.size() > 40 ? "...'" : "'");
}

class TreeWalk {
 public:
  explicit TreeWalk(const std::string& file) : file_(file) {}

  void Walk(const YAML::Node& n, int depth) {
    if (++nodes_ > ScenarioLimits::kMaxNodes)
      Stop(n,
           "at most " + std::to_string(ScenarioLimits::kMaxNodes) +
               " nodes with every alias (*name) expanded, so that aliases cannot multiply the document",
           "more (aliases expanding to over " + std::to_string(ScenarioLimits::kMaxNodes) + " nodes)");
    if (depth > ScenarioLimits::kMaxDepth)
      Stop(n, "nesting no deeper than " + std::to_string(ScenarioLimits::kMaxDepth) + " levels",
           "nesting deeper than " + std::to_string(ScenarioLimits::kMaxDepth) + " levels");
    if (n.IsScalar()) {
      CheckText(n, n.Scalar());
    } else if (n.IsMap()) {
      for (auto it = n.begin(); it != n.end(); ++it) {
        const std::string key = it->first.IsScalar() ? it->first.Scalar() : "?";
        path_.push_back("." + (IsValidUtf8(key) && key.find('\0') == std::string::npos ? key : Escaped(key)));
        if (it->first.IsScalar()) CheckText(it->first, key);
        Walk(it->second, depth + 1);
        path_.pop_back();
      }
    } else if (n.IsSequence()) {
      size_t i = 0;
      for (auto it = n.begin(); it != n.end(); ++it, ++i) {
        path_.push_back("[" + std::to_string(i) + "]");
        Walk(*it, depth + 1);
        path_.pop_back();
      }
    }
  }

  const std::vector<ConfigIssue>& issues() const { return issues_; }

 private:
  static int LineOf(const YAML::Node& n) { return n.Mark().line >= 0 ? n.Mark().line + 1 : 0; }

  std::string Path() const {
    std::string p;
    for (const auto& part : path_) p += part;
    return !p.empty() && p[0] == '.' ? p.substr(1) : p;
  }

  [[noreturn]] void Stop(const YAML::Node& n, const std::string& expected, const std::string& found) const {
    throw ConfigError({{file_, Path(), LineOf(n), expected, found}});
  }

  void CheckText(const YAML::Node& n, const std::string& s) {
    const size_t nul = s.find('\0');
    if (nul != std::string::npos)
      issues_.push_back({file_, Path(), LineOf(n), "text without NUL bytes",
                         Escaped(s) + " (a NUL at byte " + std::to_string(nul) + ")"});
    else if (!IsValidUtf8(s))
      issues_.push_back({file_, Path(), LineOf(n), "text in UTF-8", Escaped(s) + " (not valid UTF-8)"});
  }

  const std::string& file_;
  size_t nodes_ = 0;
  std::vector<std::string> path_;
  std::vector<ConfigIssue> issues_;
};

}  // namespace

void CheckScenarioTree(const YAML::Node& root, const std::string& source_name) {
  TreeWalk walk(source_name);
  walk.Walk(root, 1);
  if (!walk.issues().empty()) throw ConfigError(walk.issues());
}

}  // namespace adsim
