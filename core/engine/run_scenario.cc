// The run and its oracle (core/engine.h): ResolveSeed, RunOnce (set up the
// kernel's parts, run the loop, write the end-of-run tables and the
// fingerprint), OracleScenario and RunScenario (the run, then one oracle run
// per campaign and the regret table).
// Owns: the lifetime of one run's parts and the order they are built in.
// May not touch: any rule of the run (they live in the parts).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include "core/engine.h"
#include "core/engine/action_applier.h"
#include "core/engine/control_cycle.h"
#include "core/engine/experiment_runtime.h"
#include "core/engine/journeys.h"
#include "core/engine/recorder.h"
#include "core/engine/result_tables.h"
#include "core/engine/run_loop.h"
#include "core/engine/run_state.h"
#include "core/engine/setup.h"
#include "core/engine/shocks.h"
#include "core/engine/user_response.h"

namespace adsim {

uint64_t ResolveSeed(const Scenario& scenario, const RunOptions& options) {
  if (options.seed) return *options.seed;
  if (scenario.seed) return *scenario.seed;
  throw ConfigError(
      {{scenario.source_name, "seed", 0,
        "a seed in the scenario or given to the run (--seed N, seed=N); adsim never seeds from the clock", "none"}});
}

namespace engine {

// One run, without its oracle.
Results RunOnce(const Scenario& scenario, const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  RunState state(scenario, options, ResolveSeed(scenario, options));
  Experiments experiments(state);
  Components components;
  SetUp(state, experiments, components);
  Shocks shocks(state);
  Results results;
  Recorder recorder(state, &results);
  AuctionInsights insights(state, &results);
  ActionApplier applier(state, recorder);
  ControlCycle cycle(state, recorder, applier, experiments, std::move(components));
  SyntheticResponse synthetic_response(state);
  std::vector<int> creatives_per_campaign;
  for (const CampaignSpec& campaign : scenario.campaigns)
    creatives_per_campaign.push_back(static_cast<int>(campaign.creatives.size()));
  ReplayResponse replay_response(creatives_per_campaign, synthetic_response);
  const bool replay = state.market->HasLoggedOutcomes();
  UserResponse& response = replay ? static_cast<UserResponse&>(replay_response) : synthetic_response;
  if (replay && scenario.journeys)
    throw ConfigError({{scenario.source_name, "journeys", 0,
                        "the synthetic market (journeys simulate users' conversions; a log replay holds logged ones)",
                        "a scenario replaying logs"}});
  std::optional<Journeys> journeys;
  if (scenario.journeys) {
    journeys.emplace(state, &results);
    state.journeys = &*journeys;
  }
  RunLoop loop(state, recorder, insights, experiments, shocks, cycle, applier, response,
               journeys ? &*journeys : nullptr);
  loop.Run();
  if (journeys) {
    journeys->Finish();
    results.int_attrs["journey_organic_conversions"] = journeys->organic_conversions();
    results.int_attrs["journey_incremental_conversions"] = journeys->incremental_conversions();
    if (scenario.funnel) {  // docs/journeys.md, "Funnel stages"
      results.int_attrs["journey_funnel_arrivals"] = journeys->funnel_arrivals();
      results.int_attrs["journey_funnel_visits"] = journeys->funnel_visits();
      results.int_attrs["journey_funnel_carts"] = journeys->funnel_carts();
    }
  }
  state.market->AddTables(results);
  if (replay) {
    results.int_attrs["replay_wins_logged"] = replay_response.wins_logged();
    results.int_attrs["replay_wins_modelled"] = replay_response.wins_modelled();
  }
  AddReviewsTable(state, applier, results);
  AddUsersTable(scenario, state.users, results);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  AddEndOfRunTables(state, cycle, recorder, wall, results);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(Fingerprint(results)));
  results.text_attrs["fingerprint"] = hex;
  for (const auto& table : results.tables) table.CheckShape();
  return results;
}

}  // namespace engine

Scenario OracleScenario(const Scenario& scenario, int campaign) {
  Scenario oracle = scenario;
  oracle.oracle = false;
  oracle.recording.events = false;
  for (auto& experiment : oracle.experiments) experiment.analyses.clear();
  CampaignSpec& spec = oracle.campaigns.at(campaign);
  spec.bidder = ComponentSpec{"fixed", {}, ""};
  spec.controllers.clear();
  if (std::isfinite(spec.daily_budget) || std::isfinite(spec.total_budget))
    spec.controllers.push_back(ComponentSpec{"pid_pacing", {}, "oracle_pacing"});
  return oracle;
}

namespace {

// The `sampled_parameters` table of a scenario with distributions: the value
// drawn for each field in this run (docs/scenario.md, "Distributions"); the
// fingerprint then covers it.
void AddSampledParameters(const Scenario& scenario, Results& results) {
  Table& table = results.Add("sampled_parameters",
                             "The value drawn from the run's seed for each scenario field given a distribution");
  auto& field = table.Text("field", "field path in the scenario");
  auto& distribution = table.Text("distribution", "beta, lognormal, normal, uniform or choice");
  auto& parameters = table.Text("parameters", "the distribution's parameters as written");
  auto& value = table.Real("value", "", "the value the run used");
  for (const SampledField& sampled : scenario.sampled) {
    field.push_back(sampled.path);
    distribution.push_back(sampled.distribution);
    std::string text;
    for (double parameter : sampled.parameters) {
      char number[32];
      std::snprintf(number, sizeof number, "%.17g", parameter);
      text += (text.empty() ? "" : ", ") + std::string(number);
    }
    parameters.push_back(text);
    value.push_back(sampled.value);
  }
  table.CheckShape();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(Fingerprint(results)));
  results.text_attrs["fingerprint"] = hex;
}

}  // namespace

Results RunScenario(const Scenario& scenario, const RunOptions& options) {
  if (!scenario.sampled.empty() && !scenario.sampled.front().drawn)
    return RunScenario(SampleScenario(scenario, ResolveSeed(scenario, options)), options);
  Results results = engine::RunOnce(scenario, options);
  if (!scenario.sampled.empty() && options.oracle_campaign < 0) AddSampledParameters(scenario, results);
  if (!scenario.oracle || options.oracle_campaign >= 0) return results;
  std::vector<Results> oracles;
  for (int c = 0; c < static_cast<int>(scenario.campaigns.size()); ++c) {
    RunOptions oracle_options = options;
    oracle_options.oracle_campaign = c;
    oracle_options.progress = nullptr;
    oracle_options.seed = ResolveSeed(scenario, options);
    const Scenario oracle_scenario = OracleScenario(scenario, c);
    oracles.push_back(engine::RunOnce(oracle_scenario, oracle_options));
  }
  auto column = [](const Results& run, const char* name) -> const std::vector<double>& {
    return std::get<std::vector<double>>(run.Find("campaign_truth")->Find(name)->data);
  };
  Table& table =
      results.Add("oracle",
                  "Regret of each campaign against its oracle: the same run (same seed, same competitors) with "
                  "the campaign's bidder knowing the true rates, under the same budgets paced by pid_pacing");
  auto& table_campaign = table.Int("campaign", "index", "index into the campaigns table");
  auto& oracle_spend = table.Real("oracle_spend", "currency", "the oracle's spend");
  auto& oracle_conversions = table.Real("oracle_conversions", "count", "the oracle's conversions (truth)");
  auto& oracle_value = table.Real("oracle_value", "currency", "the oracle's conversion value (truth)");
  auto& regret_conversions =
      table.Real("regret_conversions", "count", "oracle_conversions - this run's conversions (negative: beat it)");
  auto& regret_value = table.Real("regret_value", "currency", "oracle_value - this run's conversion value");
  const auto &conversions = column(results, "conversions"), &value = column(results, "conversion_value");
  uint64_t combined = 0;
  for (size_t c = 0; c < conversions.size(); ++c) {
    const Results& oracle = oracles[c];
    const auto &best_spend = column(oracle, "spend"), &best_conversions = column(oracle, "conversions"),
               &best_value = column(oracle, "conversion_value");
    combined = combined * 0x100000001b3ULL ^ Fingerprint(oracle);
    results.real_attrs["oracle_wall_time_s"] += oracle.real_attrs.at("wall_time_s");
    table_campaign.push_back(static_cast<int64_t>(c));
    oracle_spend.push_back(best_spend[c]);
    oracle_conversions.push_back(best_conversions[c]);
    oracle_value.push_back(best_value[c]);
    regret_conversions.push_back(best_conversions[c] - conversions[c]);
    regret_value.push_back(best_value[c] - value[c]);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(combined));
  results.text_attrs["oracle_fingerprint"] = hex;
  // A result whose oracles did not know the users says so (RunOptions::oracle_user_truth).
  if (!options.oracle_user_truth)
    results.text_attrs["oracle_knows"] =
        "cell rates, shocks and fatigue; not the user's propensity (oracle_user_truth)";
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(Fingerprint(results)));
  results.text_attrs["fingerprint"] = hex;
  table.CheckShape();
  return results;
}

}  // namespace adsim
