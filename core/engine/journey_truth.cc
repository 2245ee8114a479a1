// Journey ground truth (journey_truth.h): the counterfactual subsets at the
// factual conversions, removal effects, exact Shapley values, the dashboards'
// claims and the journey_truth and journey_campaign_paths tables.
#include "core/engine/journey_truth.h"

#include <algorithm>
#include <cmath>

namespace adsim::engine {

JourneyTruth::JourneyTruth(const Scenario& scenario, Results* results)
    : scenario_(scenario), spec_(*scenario.journeys) {
  lifts_ = static_cast<int>(spec_.lifts.size());
  campaigns_ = static_cast<int>(scenario.campaigns.size());
  channels_ = static_cast<int>(scenario.channels.size());
  for (const JourneyLiftSpec& lift : spec_.lifts) lift_rate_.push_back(lift.lift / static_cast<double>(kMicrosPerDay));
  scratch_.assign(static_cast<size_t>(lifts_) * campaigns_, 0.0);
  cause_channel_conversions_.assign(channels_, 0.0);
  cause_channel_value_.assign(channels_, 0.0);
  cause_campaign_conversions_.assign(campaigns_, 0.0);
  cause_campaign_value_.assign(campaigns_, 0.0);
  reported_conversions_.assign(static_cast<size_t>(channels_) * campaigns_, 0.0);
  reported_value_.assign(static_cast<size_t>(channels_) * campaigns_, 0.0);

  Table& table = results->Add(
      "journey_truth",
      "Journeys with truth only: per channel and per campaign, the true incremental conversions and value by "
      "counterfactual re-simulation with common random numbers (removal effect and Shapley value over subsets), "
      "the touchpoint causes the run drew, and what each channel's dashboard would report");
  truth_.scope = &table.Text("scope", "channel or campaign: the players of the game");
  truth_.player = &table.Int("player", "index", "index into the channels or campaigns table");
  truth_.name = &table.Text("name", "the channel's or campaign's name");
  truth_.removal_conversions =
      &table.Real("removal_conversions", "count",
                  "incremental conversions lost when only this player's touchpoints lose their lift");
  truth_.removal_value = &table.Real("removal_value", "currency", "the value of those conversions");
  truth_.shapley_conversions =
      &table.Real("shapley_conversions", "count",
                  "Shapley value of the true game (conversions of every subset of players), exact over 2^n subsets; "
                  "sums to the incremental conversions");
  truth_.shapley_value = &table.Real("shapley_value", "currency", "the same game on conversion value");
  truth_.cause_conversions = &table.Real(
      "cause_conversions", "count", "incremental conversions whose drawn cause (journey_conversions) is this player's");
  truth_.cause_value = &table.Real("cause_value", "currency", "their value");
  truth_.reported_conversions = &table.Real(
      "reported_conversions", "count",
      "platform-reported: conversions (organic included) the channels' dashboards claim for this player, each "
      "dashboard by its own latest click in the click-through window, else view in the view-through window; a "
      "conversion may be claimed by several dashboards");
  truth_.reported_value = &table.Real("reported_value", "currency", "the value of those claims");
  Table& paths = results->Add("journey_campaign_paths",
                              "Journeys with truth only: the journeys as paths of campaign names (as "
                              "journey_conversions.path, with campaigns for channels), in the common path format");
  paths_.path = &paths.Text("path", "campaign names joined by ' > ', oldest first; empty: no touch in the windows");
  paths_.conversions = &paths.Real("total_conversions", "count", "conversions after this path");
  paths_.value = &paths.Real("total_conversion_value", "currency", "their value");
  paths_.nulls = &paths.Int("total_null", "count", "users whose journey ended without conversion on this path");
}

std::vector<double>& JourneyTruth::ZeroedSums() {
  std::fill(scratch_.begin(), scratch_.end(), 0.0);
  return scratch_;
}

double JourneyTruth::LiftHazard(int lift, double n) const {
  if (n <= 0) return 0.0;
  const double saturation = spec_.lifts[lift].saturation;
  // As Journeys::IncrementalHazard: S * (1 - exp(-n / S)) with saturation, n without.
  return lift_rate_[lift] * (saturation > 0 ? -saturation * std::expm1(-n / saturation) : n);
}

void JourneyTruth::AddIncremental(double threshold, double value, int cause_channel, int cause_campaign) {
  records_.push_back(threshold);
  records_.push_back(value);
  records_.insert(records_.end(), scratch_.begin(), scratch_.end());
  ++incremental_;
  if (cause_channel >= 0) {
    cause_channel_conversions_[cause_channel] += 1;
    cause_channel_value_[cause_channel] += value;
  }
  if (cause_campaign >= 0) {
    cause_campaign_conversions_[cause_campaign] += 1;
    cause_campaign_value_[cause_campaign] += value;
  }
}

void JourneyTruth::Report(int channel, int campaign, double value) {
  reported_conversions_[static_cast<size_t>(channel) * campaigns_ + campaign] += 1;
  reported_value_[static_cast<size_t>(channel) * campaigns_ + campaign] += value;
}

void JourneyTruth::AddCampaignPath(const std::string& path, double conversions, double value, int64_t nulls) {
  if (conversions > 0) {
    auto& [count, total] = campaign_path_conversions_[path];
    count += conversions;
    total += value;
  }
  if (nulls > 0) campaign_path_nulls_[path] += nulls;
}

void JourneyTruth::EvaluateSubsets(bool by_channel, std::vector<double>* conversions,
                                   std::vector<double>* value) const {
  const int players = by_channel ? channels_ : campaigns_;
  const size_t subsets = size_t{1} << players;
  const size_t full = subsets - 1;
  conversions->assign(subsets, 0.0);
  value->assign(subsets, 0.0);
  std::vector<double> hazard(subsets), player_hazard(players), counts(subsets);
  const size_t stride = 2 + static_cast<size_t>(lifts_) * campaigns_;
  for (int64_t i = 0; i < incremental_; ++i) {
    const double* record = records_.data() + static_cast<size_t>(i) * stride;
    const double threshold = record[0], conversion_value = record[1];
    const double* sums = record + 2;  // lifts x campaigns
    std::fill(hazard.begin(), hazard.end(), 0.0);
    if (by_channel) {
      // Channels do not share lifts: the hazard of a subset is the sum of its channels' lifts.
      std::fill(player_hazard.begin(), player_hazard.end(), 0.0);
      for (int lift = 0; lift < lifts_; ++lift) {
        double n = 0;
        for (int campaign = 0; campaign < campaigns_; ++campaign) n += sums[lift * campaigns_ + campaign];
        player_hazard[spec_.lifts[lift].channel] += LiftHazard(lift, n);
      }
      for (size_t subset = 1; subset < subsets; ++subset) {
        const size_t lowest = subset & (~subset + 1);
        hazard[subset] = hazard[subset ^ lowest] + player_hazard[__builtin_ctzll(lowest)];
      }
    } else {
      // Campaigns share a lift (a channel and kind): saturation applies to the subset's summed touches.
      for (int lift = 0; lift < lifts_; ++lift) {
        counts[0] = 0;
        for (size_t subset = 1; subset < subsets; ++subset) {
          const size_t lowest = subset & (~subset + 1);
          counts[subset] = counts[subset ^ lowest] + sums[lift * campaigns_ + __builtin_ctzll(lowest)];
          hazard[subset] += LiftHazard(lift, counts[subset]);
        }
      }
    }
    for (size_t subset = 1; subset < subsets; ++subset) {
      // The full set is the factual run, which accepted this candidate (forced, so that
      // a different summation order cannot round it away).
      if (subset == full || threshold < hazard[subset]) {
        (*conversions)[subset] += 1;
        (*value)[subset] += conversion_value;
      }
    }
  }
}

namespace {

// Removal effects v(N) - v(N \ {i}) and exact Shapley values
// sum over S not holding i of |S|! (n - |S| - 1)! / n! (v(S + i) - v(S)).
void RemovalAndShapley(const std::vector<double>& game, int players, std::vector<double>* removal,
                       std::vector<double>* shapley) {
  const size_t subsets = size_t{1} << players, full = subsets - 1;
  removal->assign(players, 0.0);
  shapley->assign(players, 0.0);
  std::vector<double> weight(players, 0.0);  // by |S|
  for (int size = 0; size < players; ++size) {
    // s! (n - s - 1)! / n! = 1 / (n * C(n - 1, s))
    double choose = 1;
    for (int k = 1; k <= size; ++k) choose = choose * (players - 1 - size + k) / k;
    weight[size] = 1.0 / (players * choose);
  }
  for (int player = 0; player < players; ++player) {
    const size_t bit = size_t{1} << player;
    (*removal)[player] = game[full] - game[full ^ bit];
    double sum = 0;
    for (size_t subset = 0; subset < subsets; ++subset)
      if (!(subset & bit)) sum += weight[__builtin_popcountll(subset)] * (game[subset | bit] - game[subset]);
    (*shapley)[player] = sum;
  }
}

}  // namespace

void JourneyTruth::WriteScope(const std::string& scope, const std::vector<std::string>& names,
                              const std::vector<double>& conversions, const std::vector<double>& value,
                              const std::vector<double>& cause_conversions, const std::vector<double>& cause_value,
                              const std::vector<double>& reported_conversions,
                              const std::vector<double>& reported_value) {
  const auto players = static_cast<int>(names.size());
  std::vector<double> removal_conversions, shapley_conversions, removal_value, shapley_value;
  RemovalAndShapley(conversions, players, &removal_conversions, &shapley_conversions);
  RemovalAndShapley(value, players, &removal_value, &shapley_value);
  for (int player = 0; player < players; ++player) {
    truth_.scope->push_back(scope);
    truth_.player->push_back(player);
    truth_.name->push_back(names[player]);
    truth_.removal_conversions->push_back(removal_conversions[player]);
    truth_.removal_value->push_back(removal_value[player]);
    truth_.shapley_conversions->push_back(shapley_conversions[player]);
    truth_.shapley_value->push_back(shapley_value[player]);
    truth_.cause_conversions->push_back(cause_conversions[player]);
    truth_.cause_value->push_back(cause_value[player]);
    truth_.reported_conversions->push_back(reported_conversions[player]);
    truth_.reported_value->push_back(reported_value[player]);
  }
}

void JourneyTruth::Finish() {
  std::vector<double> conversions, value;
  std::vector<std::string> names;
  std::vector<double> reported_conversions(channels_, 0.0), reported_value(channels_, 0.0);
  for (int channel = 0; channel < channels_; ++channel)
    for (int campaign = 0; campaign < campaigns_; ++campaign) {
      reported_conversions[channel] += reported_conversions_[static_cast<size_t>(channel) * campaigns_ + campaign];
      reported_value[channel] += reported_value_[static_cast<size_t>(channel) * campaigns_ + campaign];
    }
  for (const ChannelSpec& channel : scenario_.channels) names.push_back(channel.name);
  EvaluateSubsets(true, &conversions, &value);
  WriteScope("channel", names, conversions, value, cause_channel_conversions_, cause_channel_value_,
             reported_conversions, reported_value);

  names.clear();
  reported_conversions.assign(campaigns_, 0.0);
  reported_value.assign(campaigns_, 0.0);
  for (int channel = 0; channel < channels_; ++channel)
    for (int campaign = 0; campaign < campaigns_; ++campaign) {
      reported_conversions[campaign] += reported_conversions_[static_cast<size_t>(channel) * campaigns_ + campaign];
      reported_value[campaign] += reported_value_[static_cast<size_t>(channel) * campaigns_ + campaign];
    }
  for (const CampaignSpec& campaign : scenario_.campaigns) names.push_back(campaign.name);
  EvaluateSubsets(false, &conversions, &value);
  WriteScope("campaign", names, conversions, value, cause_campaign_conversions_, cause_campaign_value_,
             reported_conversions, reported_value);

  std::map<std::string, bool> paths;
  for (const auto& [path, totals] : campaign_path_conversions_) paths[path] = true;
  for (const auto& [path, nulls] : campaign_path_nulls_) paths[path] = true;
  for (const auto& [path, unused] : paths) {
    const auto converted = campaign_path_conversions_.find(path);
    const auto null = campaign_path_nulls_.find(path);
    paths_.path->push_back(path);
    paths_.conversions->push_back(converted == campaign_path_conversions_.end() ? 0.0 : converted->second.first);
    paths_.value->push_back(converted == campaign_path_conversions_.end() ? 0.0 : converted->second.second);
    paths_.nulls->push_back(null == campaign_path_nulls_.end() ? 0 : null->second);
  }
}

}  // namespace adsim::engine
