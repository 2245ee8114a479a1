// Owns the input of the attribution models (docs/attribution.md): a set of
// customer journeys ("paths") over named channels, each with its conversions,
// conversion value and non-converting occurrences, and the reader of the
// common `path;conversions;value;null` CSV format. Simulated touchpoint paths
// (with touch times) fill the same structure. No model lives here.
#pragma once

#include <istream>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/results.h"
#include "core/types.h"

namespace adsim::attribution {

// One distinct journey and how often it occurred. `channels` are indexes into
// PathData::channel_names, in touch order (repeats allowed). `touch_times`
// is empty for path data without times, or holds one time per touch (same
// length as `channels`, non-decreasing, at most `end_time`), with `end_time`
// the conversion time (or the end of the window for a path that did not
// convert); time decay then uses end_time - touch_time.
struct Path {
  std::vector<int> channels;
  std::vector<SimTime> touch_times;
  SimTime end_time = 0;
  double conversions = 0;  // conversions after this journey (over its occurrences)
  double value = 0;        // their total value
  double nulls = 0;        // occurrences that did not convert
};

// A user holdout on one channel (docs/attribution.md, "Holdout-measured
// incrementality"): the users held out of the channel (shown none of our ads
// there) and the others, with each group's conversions and value and the sums
// of their squares per user (for the standard errors). What an advertiser who
// ran the holdout observes; no true label.
struct HoldoutGroup {
  double users = 0, conversions = 0, conversions_sq = 0, value = 0, value_sq = 0;
};
struct ChannelHoldout {
  std::string channel;
  HoldoutGroup held_out, exposed;
};

struct PathData {
  std::vector<std::string> channel_names;
  std::vector<Path> paths;
  // Holdout measurements, per channel that had one (simulated journeys with
  // `journeys.holdout`); empty for path data without them.
  std::vector<ChannelHoldout> holdout;

  // The index of `name`, added if new (first appearance order).
  int ChannelIndex(const std::string& name);
  double TotalConversions() const;
  double TotalValue() const;
  double TotalNulls() const;

 private:
  std::unordered_map<std::string, int> index_;
};

// Reads `;`-separated path data with a header row naming the columns:
// `path` (channels joined by ` > `), conversions (`total_conversions` or
// `conversions`), value (`total_conversion_value`, `conversion_value` or
// `value`; optional, 0 when absent) and non-conversions (`total_null` or
// `null`; optional, 0 when absent), in any order. Blank lines are skipped;
// `\r\n` line ends are accepted. Throws DataError naming `source`, the line
// and the field on the first bad row (an empty channel name, a count that
// is not a finite number >= 0, a value without conversions, a missing or
// extra field), or when the header lacks `path` or the conversions column.
PathData ReadPathsCsv(std::istream& in, const std::string& source);

// The paths of a simulated run with journeys (docs/journeys.md): one path per
// distinct `journey_conversions.path` (conversions and value summed; a
// conversion with no touchpoint in its windows is left out: no model can
// credit it) plus `journey_paths` (users who did not convert, as nulls).
// Channel names are in the order the paths first name them. With the table
// journey_holdout (a run with `journeys.holdout`), fills `holdout` too.
// Throws DataError naming `source` when the result has no journey tables.
PathData PathsFromJourneys(const Results& results, const std::string& source);
// The same from the columns: one path text and value per conversion (an empty
// path is left out), one path text and user count per non-converting path.
PathData PathsFromLists(const std::vector<std::string>& conversion_paths, const std::vector<double>& conversion_values,
                        const std::vector<std::string>& null_paths, const std::vector<int64_t>& null_users);

// The same journeys with campaign names for channels (journey_campaign_paths,
// written by runs with `journeys.truth: true`; a path with no touch in its
// windows is left out). Throws DataError naming `source` when the table is missing.
PathData CampaignPathsFromJourneys(const Results& results, const std::string& source);

}  // namespace adsim::attribution
