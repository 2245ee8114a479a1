// The strategy API's helpers: the PublicScenario handed to component
// factories, Snapshot sums and action kind names (core/strategy.h).
// May not touch: the engine's run state; it only reads the Scenario.
#include "core/strategy.h"

#include <algorithm>

#include "core/scenario.h"

namespace adsim {

PublicScenario MakePublicScenario(const Scenario& sc) {
  PublicScenario p;
  p.source_name = PublicSourceName(sc.source_name);
  p.duration = sc.duration;
  p.bucket = sc.bucket;
  p.control_cycle = sc.control_cycle;
  p.start_offset_in_day = sc.start_offset_in_day;
  p.start_weekday = sc.start_weekday;
  for (const auto& c : sc.channels)
    p.channels.push_back({c.name, c.auction, c.slots, c.billing, c.floor, c.per_hour, c.hour_of_day, c.day_of_week});
  for (const auto& s : sc.segments)
    for (const auto& [name, value] : s.features)
      if (std::find(p.feature_names.begin(), p.feature_names.end(), name) == p.feature_names.end())
        p.feature_names.push_back(name);
  for (const auto& s : sc.segments) {
    PublicScenario::Segment seg{s.name, s.users, std::vector<double>(p.feature_names.size(), 0.0)};
    for (const auto& [name, value] : s.features)
      seg.features[std::find(p.feature_names.begin(), p.feature_names.end(), name) - p.feature_names.begin()] = value;
    p.segments.push_back(std::move(seg));
  }
  p.campaigns = sc.campaigns;
  p.experiments = sc.experiments;
  p.user_feature_count = sc.user_features ? sc.user_features->count : 0;
  p.audiences = sc.audiences;
  p.journeys = sc.journeys.has_value();
  if (sc.journeys) p.journey_holdout = sc.journeys->holdout;
  return p;
}

ObservedStats Snapshot::CampaignTotal(const std::vector<ObservedStats>& table, int campaign) const {
  ObservedStats s;
  const int n = num_channels * num_segments * num_creatives[campaign];
  for (int i = 0; i < n; ++i) s.Add(table[cell_offset[campaign] + i]);
  return s;
}

const char* ActionKindName(ActionKind k) {
  switch (k) {
    case ActionKind::kSetBid:
      return "set_bid";
    case ActionKind::kSetDailyBudget:
      return "set_daily_budget";
    case ActionKind::kSetTotalBudget:
      return "set_total_budget";
    case ActionKind::kPauseCampaign:
      return "pause_campaign";
    case ActionKind::kResumeCampaign:
      return "resume_campaign";
    case ActionKind::kPauseCreative:
      return "pause_creative";
    case ActionKind::kResumeCreative:
      return "resume_creative";
    case ActionKind::kSetSegmentModifier:
      return "set_segment_modifier";
    case ActionKind::kSetCreativeWeight:
      return "set_creative_weight";
  }
  return "?";
}

}  // namespace adsim
