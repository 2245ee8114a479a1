// Limits on a scenario document, checked before it is read field by field, so
// that a hostile or broken file fails fast with a clear error instead of
// keeping the reader busy (a YAML alias bomb: a few hundred bytes whose
// aliases expand to billions of nodes) or crashing it (nesting deep enough to
// exhaust the stack). Also rejects text that is not UTF-8 or holds a NUL byte,
// which names (campaigns, segments, components, ...) must never contain.
// docs/scenario.md, "Limits", documents each one.
#pragma once

#include <cstddef>
#include <string>

namespace YAML {
class Node;
}

namespace adsim {

struct ScenarioLimits {
  // Bytes of scenario text. A scenario of 450 segments with creatives,
  // features and profiles is about 100 KiB.
  static constexpr size_t kMaxBytes = 1 << 20;
  // Nodes of the document with every alias expanded (an alias counts its whole
  // subtree each time it is used). The 450-segment scenario has about 10,000.
  static constexpr size_t kMaxNodes = 500'000;
  // Levels of nested mappings and lists. Real scenarios use fewer than 10.
  static constexpr int kMaxDepth = 64;
};

// Throws ConfigError if `text` is larger than ScenarioLimits::kMaxBytes.
void CheckScenarioSize(const std::string& text, const std::string& source_name);

// Walks the parsed document once, stopping at the first limit exceeded, and
// throws ConfigError naming the file, the line and the limit; also reports
// every key or value that is not valid UTF-8 or contains a NUL byte, with its
// field path.
void CheckScenarioTree(const YAML::Node& root, const std::string& source_name);

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code
// points above U+10FFFF).
bool IsValidUtf8(const std::string& s);

}  // namespace adsim
