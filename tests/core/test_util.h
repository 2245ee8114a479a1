// Helpers shared by the C++ tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/error.h"
#include "core/results.h"
#include "core/scenario.h"

namespace adsim::test {

// A small, fast scenario: one day, two channels, two segments, two campaigns.
// `extra` is appended at the top level (for shocks, recording, ...), and
// `campaign_extra` is appended to the first campaign's mapping.
inline std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

inline std::string SmallScenario(const std::string& extra = "", const std::string& campaign_extra = "",
                                 const std::string& duration = "1d", double per_hour = 20000) {
  return "name: small\nseed: 7\nstart: '2026-03-02T00:00:00'\nduration: " + duration +
         "\nbucket: 1h\ncontrol_cycle: 15m\n"
         "channels:\n"
         "  - name: display\n    auction: second_price\n    floor: 0.0005\n"
         "    traffic: {per_hour: " +
         Num(per_hour) +
         "}\n"
         "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
         "  - name: search\n    auction: {type: gsp, slots: 3, click_factors: [1.0, 0.6, 0.3]}\n"
         "    billing: click\n    floor: 0.001\n"
         "    traffic: {per_hour: " +
         Num(per_hour / 4) +
         "}\n"
         "    competition: {competitors: 4, median: 0.004, sigma: 0.5}\n    ctr_factor: 3\n"
         "segments:\n"
         "  - {name: a, users: 1000, propensity_sigma: 0.4, ctr: 0.02, cvr: 0.2, "
         "conversion_delay: {distribution: exponential, mean: 2h}}\n"
         "  - {name: b, users: 5000, share: {display: 2, search: 1}, ctr: 0.005, cvr: 0.2, "
         "conversion_value: {distribution: lognormal, mean: 40, sigma: 0.5}, "
         "conversion_delay: {distribution: lognormal, median: 3h, sigma: 0.7}}\n"
         "campaigns:\n"
         "  - name: one\n    creatives: [x, y]\n    bid: 0.003\n    budget: {daily: 60}\n" +
         campaign_extra + "  - name: two\n    channels: [search]\n    bid: 0.5\n    budget: {daily: 15, total: 100}\n" +
         extra;
}

inline Scenario Parse(const std::string& text, const std::string& name = "test.yaml") {
  return ParseScenario(text, name);
}

// The issues of the ConfigError that parsing `text` throws (fails the test if none).
inline std::vector<ConfigIssue> IssuesOf(const std::string& text) {
  try {
    ParseScenario(text, "bad.yaml");
  } catch (const ConfigError& e) {
    return e.issues();
  }
  ADD_FAILURE() << "expected a ConfigError for:\n" << text;
  return {};
}

template <class T>
const std::vector<T>& Col(const Results& r, const std::string& table, const std::string& column) {
  const Table* t = r.Find(table);
  if (!t) throw std::runtime_error("no table " + table);
  const Column* c = t->Find(column);
  if (!c) throw std::runtime_error("no column " + table + "." + column);
  return std::get<std::vector<T>>(c->data);
}

// Conversions reported in the aggregates from time `from` on.
inline int64_t ConversionsReportedAfter(SimTime from, const Results& r) {
  const auto& bucket = Col<int64_t>(r, "aggregates", "bucket_start");
  const auto& conv = Col<int64_t>(r, "aggregates", "conversions");
  int64_t n = 0;
  for (size_t i = 0; i < bucket.size(); ++i)
    if (bucket[i] >= from) n += conv[i];
  return n;
}

}  // namespace adsim::test
