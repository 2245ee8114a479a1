// Journey ground truth (journey_truth.h): the counterfactual subsets at the
// factual conversions, removal effects, exact Shapley values, the dashboards'
// claims and the journey_truth and journey_campaign_paths tables.
#include "core/engine/journey_truth.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/random.h"

namespace adsim::engine {

double CombineChannelLifts(const JourneySpec& spec, const std::vector<double>& channel_lift,
                           const std::vector<char>& present, std::vector<double>* multiplier) {
  std::fill(multiplier->begin(), multiplier->end(), 1.0);
  for (const JourneyInteractionSpec& interaction : spec.interactions) {
    bool all = true;
    for (const int channel : interaction.channels) all = all && present[channel];
    if (!all) continue;
    for (const int channel : interaction.channels) (*multiplier)[channel] *= interaction.lift_multiplier;
  }
  double hazard = 0;
  for (size_t channel = 0; channel < channel_lift.size(); ++channel)
    hazard += channel_lift[channel] * (*multiplier)[channel];
  return hazard;
}

JourneyTruth::JourneyTruth(const Scenario& scenario, uint64_t seed, Results* results)
    : scenario_(scenario), spec_(*scenario.journeys), seed_(seed) {
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
  truth_.shapley_conversions_se =
      &table.Real("shapley_conversions_se", "count",
                  "standard error of a sampled shapley_conversions (over journeys.truth_permutations permutations); "
                  "0 when exact");
  truth_.shapley_value_se = &table.Real("shapley_value_se", "currency", "the same for shapley_value");
  truth_.shapley_method = &table.Text(
      "shapley_method", "exact (over the 2^n subsets) or sampled (permutation sampling with common random numbers)");
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
  // With interactions: per channel, its lift and presence in the subset, and per lift x subset the touch counts.
  const bool interacting = !spec_.interactions.empty();
  std::vector<double> channel_lift(channels_), channel_count(channels_), multiplier(channels_);
  std::vector<char> present(channels_);
  std::vector<double> lift_counts(interacting && !by_channel ? static_cast<size_t>(lifts_) * subsets : 0);
  const size_t stride = 2 + static_cast<size_t>(lifts_) * campaigns_;
  for (int64_t i = 0; i < incremental_; ++i) {
    const double* record = records_.data() + static_cast<size_t>(i) * stride;
    const double threshold = record[0], conversion_value = record[1];
    const double* sums = record + 2;  // lifts x campaigns
    std::fill(hazard.begin(), hazard.end(), 0.0);
    if (interacting && by_channel) {
      // A subset keeps its channels' lifts, and the interactions all of whose channels it keeps.
      std::fill(player_hazard.begin(), player_hazard.end(), 0.0);
      std::fill(channel_count.begin(), channel_count.end(), 0.0);
      for (int lift = 0; lift < lifts_; ++lift) {
        double n = 0;
        for (int campaign = 0; campaign < campaigns_; ++campaign) n += sums[lift * campaigns_ + campaign];
        player_hazard[spec_.lifts[lift].channel] += LiftHazard(lift, n);
        channel_count[spec_.lifts[lift].channel] += n;
      }
      for (size_t subset = 1; subset < subsets; ++subset) {
        for (int channel = 0; channel < channels_; ++channel) {
          const bool kept = (subset >> channel) & 1;
          channel_lift[channel] = kept ? player_hazard[channel] : 0.0;
          present[channel] = kept && channel_count[channel] > 0;
        }
        hazard[subset] = CombineChannelLifts(spec_, channel_lift, present, &multiplier);
      }
    } else if (interacting) {
      // A subset of campaigns keeps its touches' lift (saturating per lift over the subset's touches);
      // a channel is present when the subset has a lifted touch of it.
      for (int lift = 0; lift < lifts_; ++lift) {
        double* lift_count = lift_counts.data() + static_cast<size_t>(lift) * subsets;
        lift_count[0] = 0;
        for (size_t subset = 1; subset < subsets; ++subset) {
          const size_t lowest = subset & (~subset + 1);
          lift_count[subset] = lift_count[subset ^ lowest] + sums[lift * campaigns_ + __builtin_ctzll(lowest)];
        }
      }
      for (size_t subset = 1; subset < subsets; ++subset) {
        std::fill(channel_lift.begin(), channel_lift.end(), 0.0);
        std::fill(present.begin(), present.end(), 0);
        for (int lift = 0; lift < lifts_; ++lift) {
          const double n = lift_counts[static_cast<size_t>(lift) * subsets + subset];
          if (!(n > 0)) continue;
          channel_lift[spec_.lifts[lift].channel] += LiftHazard(lift, n);
          present[spec_.lifts[lift].channel] = 1;
        }
        hazard[subset] = CombineChannelLifts(spec_, channel_lift, present, &multiplier);
      }
    } else if (by_channel) {
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

void JourneyTruth::SampleShapley(bool by_channel, std::vector<double>* removal_conversions,
                                 std::vector<double>* removal_value, std::vector<double>* shapley_conversions,
                                 std::vector<double>* shapley_conversions_se, std::vector<double>* shapley_value,
                                 std::vector<double>* shapley_value_se) const {
  const int players = by_channel ? channels_ : campaigns_;
  const int permutations = spec_.truth_permutations;
  // The orders, from a stream of their own (the run's streams are not touched): position[k * players + p].
  Stream stream(seed_, by_channel ? "journeys/truth/shapley/channel" : "journeys/truth/shapley/campaign");
  std::vector<int> position(static_cast<size_t>(permutations) * players), order(players);
  for (int k = 0; k < permutations; ++k) {
    std::iota(order.begin(), order.end(), 0);
    for (int i = players - 1; i > 0; --i) std::swap(order[i], order[stream.Below(static_cast<uint32_t>(i + 1))]);
    for (int i = 0; i < players; ++i) position[static_cast<size_t>(k) * players + order[i]] = i;
  }
  // Per order and player: the marginal contributions summed over the conversions.
  std::vector<double> marginal_conversions(static_cast<size_t>(permutations) * players, 0.0),
      marginal_value(static_cast<size_t>(permutations) * players, 0.0);
  removal_conversions->assign(players, 0.0);
  removal_value->assign(players, 0.0);
  std::vector<int> active, walk;
  std::vector<char> kept(players, 0), present(channels_, 0);
  std::vector<double> lift_total(lifts_), channel_lift(channels_), multiplier(channels_);
  const size_t stride = 2 + static_cast<size_t>(lifts_) * campaigns_;
  for (int64_t i = 0; i < incremental_; ++i) {
    const double* record = records_.data() + static_cast<size_t>(i) * stride;
    const double threshold = record[0], conversion_value = record[1];
    const double* sums = record + 2;  // lifts x campaigns
    // The players with a lifted touch: the others never change this conversion's hazard.
    active.clear();
    for (int lift = 0; lift < lifts_; ++lift) {
      lift_total[lift] = 0;
      for (int campaign = 0; campaign < campaigns_; ++campaign) lift_total[lift] += sums[lift * campaigns_ + campaign];
    }
    if (by_channel) {
      for (int lift = 0; lift < lifts_; ++lift) {
        const int channel = spec_.lifts[lift].channel;
        if (lift_total[lift] > 0 && std::find(active.begin(), active.end(), channel) == active.end())
          active.push_back(channel);
      }
    } else {
      for (int campaign = 0; campaign < campaigns_; ++campaign)
        for (int lift = 0; lift < lifts_; ++lift)
          if (sums[lift * campaigns_ + campaign] > 0) {
            active.push_back(campaign);
            break;
          }
    }
    if (active.empty()) continue;  // cannot happen for an incremental conversion; nothing to share
    // The hazard of the kept players (as EvaluateSubsets, one subset).
    auto hazard_of_kept = [&]() {
      double hazard = 0;
      std::fill(channel_lift.begin(), channel_lift.end(), 0.0);
      std::fill(present.begin(), present.end(), 0);
      for (int lift = 0; lift < lifts_; ++lift) {
        const int channel = spec_.lifts[lift].channel;
        double n = 0;
        if (by_channel) {
          n = kept[channel] ? lift_total[lift] : 0.0;
        } else {
          for (const int campaign : active)
            if (kept[campaign]) n += sums[lift * campaigns_ + campaign];
        }
        if (!(n > 0)) continue;
        hazard += LiftHazard(lift, n);
        channel_lift[channel] += LiftHazard(lift, n);
        present[channel] = 1;
      }
      return spec_.interactions.empty() ? hazard : CombineChannelLifts(spec_, channel_lift, present, &multiplier);
    };
    // Removal effects: v(all) = 1 (the factual run accepted it) against v(all without p).
    for (const int player : active) kept[player] = 1;
    for (const int player : active) {
      kept[player] = 0;
      if (active.size() == 1 || !(threshold < hazard_of_kept())) {
        (*removal_conversions)[player] += 1;
        (*removal_value)[player] += conversion_value;
      }
      kept[player] = 1;
    }
    for (const int player : active) kept[player] = 0;
    // Each order, walked over the active players: the player whose addition makes the
    // conversion happen (or, with lift multipliers below 1, stop) gets the change.
    for (int k = 0; k < permutations; ++k) {
      const int* at = position.data() + static_cast<size_t>(k) * players;
      walk = active;
      std::sort(walk.begin(), walk.end(), [at](int a, int b) { return at[a] < at[b]; });
      bool converted = false;
      for (size_t step = 0; step < walk.size(); ++step) {
        kept[walk[step]] = 1;
        // All active players kept is the factual run, which converted (forced, as in EvaluateSubsets).
        const bool converts = step + 1 == walk.size() || threshold < hazard_of_kept();
        if (converts != converted) {
          const double sign = converts ? 1.0 : -1.0;
          marginal_conversions[static_cast<size_t>(k) * players + walk[step]] += sign;
          marginal_value[static_cast<size_t>(k) * players + walk[step]] += sign * conversion_value;
          converted = converts;
        }
      }
      for (const int player : walk) kept[player] = 0;
    }
  }
  // The mean over orders and its standard error.
  auto summarise = [&](const std::vector<double>& marginal, std::vector<double>* mean, std::vector<double>* se) {
    mean->assign(players, 0.0);
    se->assign(players, 0.0);
    for (int player = 0; player < players; ++player) {
      double sum = 0, sum_sq = 0;
      for (int k = 0; k < permutations; ++k) {
        const double x = marginal[static_cast<size_t>(k) * players + player];
        sum += x;
        sum_sq += x * x;
      }
      const double m = sum / permutations;
      (*mean)[player] = m;
      const double variance = std::max(0.0, (sum_sq - permutations * m * m) / (permutations - 1));
      (*se)[player] = std::sqrt(variance / permutations);
    }
  };
  summarise(marginal_conversions, shapley_conversions, shapley_conversions_se);
  summarise(marginal_value, shapley_value, shapley_value_se);
}

void JourneyTruth::WriteScope(const std::string& scope, bool by_channel, const std::vector<std::string>& names,
                              const std::vector<double>& cause_conversions, const std::vector<double>& cause_value,
                              const std::vector<double>& reported_conversions,
                              const std::vector<double>& reported_value) {
  const auto players = static_cast<int>(names.size());
  const bool sampled =
      spec_.truth_shapley == JourneySpec::ShapleyMethod::kSampled ||
      (spec_.truth_shapley == JourneySpec::ShapleyMethod::kAuto && players > JourneySpec::kMaxTruthPlayers);
  std::vector<double> removal_conversions, shapley_conversions, removal_value, shapley_value;
  std::vector<double> conversions_se(players, 0.0), value_se(players, 0.0);
  if (sampled) {
    SampleShapley(by_channel, &removal_conversions, &removal_value, &shapley_conversions, &conversions_se,
                  &shapley_value, &value_se);
  } else {
    std::vector<double> conversions, value;
    EvaluateSubsets(by_channel, &conversions, &value);
    RemovalAndShapley(conversions, players, &removal_conversions, &shapley_conversions);
    RemovalAndShapley(value, players, &removal_value, &shapley_value);
  }
  for (int player = 0; player < players; ++player) {
    truth_.scope->push_back(scope);
    truth_.player->push_back(player);
    truth_.name->push_back(names[player]);
    truth_.removal_conversions->push_back(removal_conversions[player]);
    truth_.removal_value->push_back(removal_value[player]);
    truth_.shapley_conversions->push_back(shapley_conversions[player]);
    truth_.shapley_value->push_back(shapley_value[player]);
    truth_.shapley_conversions_se->push_back(conversions_se[player]);
    truth_.shapley_value_se->push_back(value_se[player]);
    truth_.shapley_method->push_back(sampled ? "sampled" : "exact");
    truth_.cause_conversions->push_back(cause_conversions[player]);
    truth_.cause_value->push_back(cause_value[player]);
    truth_.reported_conversions->push_back(reported_conversions[player]);
    truth_.reported_value->push_back(reported_value[player]);
  }
}

void JourneyTruth::Finish() {
  std::vector<std::string> names;
  std::vector<double> reported_conversions(channels_, 0.0), reported_value(channels_, 0.0);
  for (int channel = 0; channel < channels_; ++channel)
    for (int campaign = 0; campaign < campaigns_; ++campaign) {
      reported_conversions[channel] += reported_conversions_[static_cast<size_t>(channel) * campaigns_ + campaign];
      reported_value[channel] += reported_value_[static_cast<size_t>(channel) * campaigns_ + campaign];
    }
  for (const ChannelSpec& channel : scenario_.channels) names.push_back(channel.name);
  WriteScope("channel", true, names, cause_channel_conversions_, cause_channel_value_, reported_conversions,
             reported_value);

  names.clear();
  reported_conversions.assign(campaigns_, 0.0);
  reported_value.assign(campaigns_, 0.0);
  for (int channel = 0; channel < channels_; ++channel)
    for (int campaign = 0; campaign < campaigns_; ++campaign) {
      reported_conversions[campaign] += reported_conversions_[static_cast<size_t>(channel) * campaigns_ + campaign];
      reported_value[campaign] += reported_value_[static_cast<size_t>(channel) * campaigns_ + campaign];
    }
  for (const CampaignSpec& campaign : scenario_.campaigns) names.push_back(campaign.name);
  WriteScope("campaign", false, names, cause_campaign_conversions_, cause_campaign_value_, reported_conversions,
             reported_value);

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
