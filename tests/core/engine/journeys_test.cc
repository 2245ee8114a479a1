// Journeys (core/engine/journeys.h, docs/journeys.md): the `journeys:` block's
// validation, the bounded ring, the organic baseline rate with no ads, and the
// incremental hazard's decay and total, each checked against its expectation
// with a tolerance from the standard error (fixed seeds). That existing
// scenarios are unchanged is pinned by the golden digests (Golden.*).
#include "core/engine/journeys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "tests/core/test_util.h"

namespace adsim {
namespace {

// One display channel, one segment of `users`, one campaign with a fixed bid;
// `journeys` is the journeys block (top level), `extra` anything else.
std::string JourneyScenario(const std::string& journeys, int64_t users, double bid, const std::string& duration,
                            const std::string& extra = "") {
  return "name: journeys\nseed: 11\nduration: " + duration +
         "\nbucket: 1h\n"
         "channels:\n  - name: display\n    traffic: {per_hour: 20000}\n"
         "    competition: {competitors: 3, median: 0.002, sigma: 0.5}\n"
         "segments:\n  - {name: s, users: " +
         std::to_string(users) +
         ", ctr: 0.01, cvr: 0.05}\n"
         "campaigns:\n  - name: k\n    bid: " +
         test::Num(bid) + "\n" + extra + "journeys:\n" + journeys;
}

TEST(Journeys, ValidationNamesTheField) {
  const auto issues = test::IssuesOf(JourneyScenario(
      "  touchpoints: 0\n  baseline: {nobody: 0.1}\n"
      "  lift:\n    - {channel: tv, kind: view, lift: 0.1}\n    - {channel: display, kind: glance, lift: -1}\n"
      "    - {channel: display, kind: view, lift: 0.1, saturation: 0}\n"
      "    - {channel: display, kind: view, lift: 0.1}\n  view_through_window: soon\n",
      100, 0.003, "1d"));
  std::map<std::string, std::string> by_path;
  for (const ConfigIssue& issue : issues) by_path[issue.path] = issue.expected + " / " + issue.found;
  EXPECT_TRUE(by_path.count("journeys.touchpoints")) << "touchpoints 0 is below 1";
  EXPECT_TRUE(by_path.count("journeys.baseline.nobody")) << "unknown segment";
  EXPECT_TRUE(by_path.count("journeys.lift[0].channel")) << "unknown channel";
  EXPECT_TRUE(by_path.count("journeys.lift[1].kind")) << "kind must be view or click";
  EXPECT_TRUE(by_path.count("journeys.lift[1].lift")) << "negative lift";
  EXPECT_TRUE(by_path.count("journeys.lift[2].saturation")) << "saturation must be positive";
  EXPECT_TRUE(by_path.count("journeys.lift[3]")) << "second lift for display/view";
  EXPECT_TRUE(by_path.count("journeys.view_through_window")) << "not a duration";
  EXPECT_NE(by_path["journeys.lift[0].channel"].find("display"), std::string::npos) << "lists the valid channels";
}

TEST(Journeys, WithoutTheBlockThereAreNoJourneyTables) {
  const Results r = RunScenario(test::Parse(test::SmallScenario()));
  EXPECT_EQ(r.Find("journey_conversions"), nullptr);
  EXPECT_EQ(r.Find("journey_paths"), nullptr);
}

// The ring keeps the last N touchpoints: with N = 3 and 20 users each seeing
// hundreds of impressions, no path (touches in the windows since the last
// conversion) is ever longer than 3, and the longest reach 3.
TEST(Journeys, RingIsBounded) {
  const Results r = RunScenario(test::Parse(JourneyScenario(
      "  touchpoints: 3\n  baseline: {s: 2}\n  lift: [{channel: display, kind: view, lift: 1, half_life: 2h}]\n"
      "  view_through_window: 7d\n",
      20, 0.01, "1d")));
  const auto& touches = test::Col<int64_t>(r, "journey_conversions", "touches");
  ASSERT_GT(touches.size(), 50u);
  EXPECT_EQ(*std::max_element(touches.begin(), touches.end()), 3);
  const auto& paths = test::Col<std::string>(r, "journey_paths", "path");
  for (const std::string& path : paths) EXPECT_LE(std::count(path.begin(), path.end(), '>'), 2) << path;
}

// The ring's 8-byte touchpoint (journeys.h) is exact: a time in microseconds up
// to kMaxTouchTime (more than the longest scenario, 366 days), either kind and
// any placement below kMaxPlacements come back unchanged, each field without
// bleeding into its neighbours (all bits of one set, the others zero or full).
TEST(Journeys, PackedTouchpointsAreExact) {
  static_assert(engine::kMaxTouchTime >= 366 * kMicrosPerDay, "the longest scenario's times must pack");
  const SimTime times[] = {0, 1, 7 * kMicrosPerDay + 123457, 366 * kMicrosPerDay, engine::kMaxTouchTime};
  const int placements[] = {0, 1, 12345, engine::kMaxPlacements - 1};
  for (const SimTime time : times)
    for (const TouchKind kind : {TouchKind::kView, TouchKind::kClick})
      for (const int placement : placements) {
        const uint64_t packed = engine::PackTouch(time, kind, placement);
        EXPECT_EQ(engine::PackedTime(packed), time);
        EXPECT_EQ(engine::PackedKind(packed), kind);
        EXPECT_EQ(engine::PackedPlacement(packed), placement);
      }
}

// Touchpoints pack (campaign, channel, creative) as one placement index: with
// two channels and two campaigns of different channels and creatives, every
// cause and credit unpacks to a campaign on a channel it runs on, each
// campaign's touches come back with each of its own creatives, and both
// campaigns and channels appear (a wrong placement table would mix them up).
TEST(Journeys, TouchpointsKeepTheirCampaignChannelAndCreative) {
  const std::string text =
      "name: placements\nseed: 5\nduration: 1d\nbucket: 1h\n"
      "channels:\n  - name: display\n    traffic: {per_hour: 5000}\n"
      "    competition: {competitors: 3, median: 0.002, sigma: 0.5}\n"
      "  - name: social\n    traffic: {per_hour: 5000}\n"
      "    competition: {competitors: 3, median: 0.002, sigma: 0.5}\n"
      "segments:\n  - {name: a, users: 1500, ctr: 0.02, cvr: 0.05}\n  - {name: b, users: 1500, ctr: 0.02, cvr: 0.05}\n"
      "campaigns:\n  - {name: both, channels: [display, social], segments: [a], creatives: [x, y, z], bid: 0.004}\n"
      "  - {name: social_only, channels: [social], segments: [b], creatives: [x, y], bid: 0.004}\n"
      "journeys:\n  baseline: {a: 0.02, b: 0.02}\n"
      "  lift: [{channel: display, kind: view, lift: 0.5, half_life: 1d}, {channel: social, kind: view, lift: 0.5, "
      "half_life: 1d}]\n  view_through_window: 1d\n  click_through_window: 7d\n";
  const Results r = RunScenario(test::Parse(text));
  const auto& cause_campaign = test::Col<int64_t>(r, "journey_conversions", "cause_campaign");
  const auto& cause_channel = test::Col<int64_t>(r, "journey_conversions", "cause_channel");
  const auto& credited_campaign = test::Col<int64_t>(r, "journey_conversions", "credited_campaign");
  const auto& credited_channel = test::Col<int64_t>(r, "journey_conversions", "credited_channel");
  std::set<std::pair<int64_t, int64_t>> pairs;
  for (size_t i = 0; i < cause_campaign.size(); ++i) {
    if (cause_campaign[i] >= 0) pairs.insert({cause_campaign[i], cause_channel[i]});
    if (credited_campaign[i] >= 0) pairs.insert({credited_campaign[i], credited_channel[i]});
  }
  // (campaign, channel): both on display (0) and social (1), social_only on social only.
  EXPECT_EQ(pairs, (std::set<std::pair<int64_t, int64_t>>{{0, 0}, {0, 1}, {1, 1}}));
  // The credited conversions go to the conversions table with the credited touch's creative.
  const auto& campaign = test::Col<int64_t>(r, "conversions", "campaign");
  const auto& creative = test::Col<int64_t>(r, "conversions", "creative");
  std::set<std::pair<int64_t, int64_t>> creatives(
      {std::make_pair(int64_t{0}, int64_t{0}), {0, 1}, {0, 2}, {1, 0}, {1, 1}});
  std::set<std::pair<int64_t, int64_t>> seen;
  for (size_t i = 0; i < campaign.size(); ++i) seen.insert({campaign[i], creative[i]});
  EXPECT_EQ(seen, creatives);
}

// A scenario with more (campaign, channel, creative) placements than the packed
// touchpoint holds fails before the run with a ConfigError naming `campaigns`
// and the limit.
TEST(Journeys, TooManyPlacementsIsAClearError) {
  Scenario scenario = test::Parse(JourneyScenario("  baseline: {s: 0.01}\n", 10, 0.003, "1h"));
  std::vector<CreativeSpec>& creatives = scenario.campaigns[0].creatives;
  while (creatives.size() <= static_cast<size_t>(engine::kMaxPlacements))
    creatives.push_back({"creative" + std::to_string(creatives.size())});
  try {
    RunScenario(scenario);
    ADD_FAILURE() << "expected a ConfigError";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind("campaigns:", 0), 0u) << message;
    EXPECT_NE(message.find(std::to_string(engine::kMaxPlacements)), std::string::npos) << message;
    EXPECT_NE(message.find(std::to_string(engine::kMaxPlacements + 1)), std::string::npos) << message;
  }
}

// No ads (a bid below every competitor and floor: never wins): conversions are
// organic only, a Poisson process of rate users * baseline per day, so the
// count over D days is Poisson(users * b * D). Tolerance: 4 standard errors, sqrt(mean).
TEST(Journeys, OrganicRateWithNoAdsMatchesTheBaseline) {
  const int64_t users = 200000;
  const double baseline = 0.01, days = 3;
  const Results r = RunScenario(test::Parse(JourneyScenario(
      "  baseline: {s: 0.01}\n  lift: [{channel: display, kind: view, lift: 1, half_life: 1h}]\n", users, 1e-9, "3d")));
  const auto& organic = test::Col<int64_t>(r, "journey_conversions", "organic");
  const double mean = static_cast<double>(users) * baseline * days;  // 6000
  const double count = static_cast<double>(organic.size());
  EXPECT_EQ(std::count(organic.begin(), organic.end(), 1), static_cast<int64_t>(organic.size())) << "all organic";
  EXPECT_NEAR(count, mean, 4 * std::sqrt(mean));
  const auto& through = test::Col<std::string>(r, "journey_conversions", "through");
  EXPECT_EQ(std::count(through.begin(), through.end(), "none"), static_cast<int64_t>(through.size()));
  // Nothing credited to the campaign: the conversions table (what campaigns see) is empty.
  EXPECT_EQ(test::Col<int64_t>(r, "conversions", "campaign").size(), 0u);
}

// The incremental hazard, from the touches the event log shows (every
// impression won is a view touch; no baseline; a linear lift L per day and
// half-life h): a touch at tau adds L * 2^(-(t - tau) / h), so the expected
// incremental conversions are E = sum over touches of L * h / ln 2 * (1 - 2^(-(end - tau) / h))
// (in days), and the count is Poisson(E): tolerance 4 sqrt(E). Among
// conversions caused by touches at least 2h before the end, the age
// (conversion - cause time) falls in [0, h) with probability
// (1 - 1/2) / (1 - 1/4) = 2/3 against [h, 2h) — the decay with the
// half-life; tolerance 4 binomial standard errors.
TEST(Journeys, LiftDecaysWithItsHalfLifeAndSumsToTheExpectedCount) {
  const double lift_per_day = 0.5;
  const SimTime half_life = 6 * kMicrosPerHour, duration = 3 * kMicrosPerDay;
  const Results r =
      RunScenario(test::Parse(JourneyScenario("  touchpoints: 64\n  baseline: {s: 0}\n"
                                              "  lift: [{channel: display, kind: view, lift: 0.5, half_life: 6h}]\n",
                                              50000, 0.003, "3d", "recording: {events: true}\n")));
  const auto& winner = test::Col<int64_t>(r, "events", "winner");
  const auto& time = test::Col<int64_t>(r, "events", "time");
  const auto& user = test::Col<int64_t>(r, "events", "user");
  double expected = 0;
  std::map<int64_t, int> touches_per_user;
  const double h_days = static_cast<double>(half_life) / kMicrosPerDay;
  for (size_t i = 0; i < winner.size(); ++i) {
    if (winner[i] != 0) continue;
    ++touches_per_user[user[i]];
    expected += lift_per_day * h_days / std::log(2.0) *
                (1 - std::exp2(-static_cast<double>(duration - time[i]) / static_cast<double>(half_life)));
  }
  int most = 0;
  for (const auto& [id, touches] : touches_per_user) most = std::max(most, touches);
  ASSERT_LT(most, 64) << "no touch left the ring, so every touch lifted the hazard to the end";
  const auto& organic = test::Col<int64_t>(r, "journey_conversions", "organic");
  ASSERT_EQ(std::count(organic.begin(), organic.end(), 0), static_cast<int64_t>(organic.size()));
  EXPECT_GT(expected, 1000);
  EXPECT_NEAR(static_cast<double>(organic.size()), expected, 4 * std::sqrt(expected));

  const auto& at = test::Col<int64_t>(r, "journey_conversions", "time");
  const auto& cause = test::Col<int64_t>(r, "journey_conversions", "cause_time");
  double young = 0, old = 0;
  for (size_t i = 0; i < at.size(); ++i) {
    ASSERT_GE(cause[i], 0);
    if (cause[i] >= duration - 2 * half_life) continue;
    const SimTime age = at[i] - cause[i];
    if (age < half_life)
      young += 1;
    else if (age < 2 * half_life)
      old += 1;
  }
  const double n = young + old, p = 2.0 / 3.0;
  ASSERT_GT(n, 500);
  EXPECT_NEAR(young / n, p, 4 * std::sqrt(p * (1 - p) / n)) << young << " young, " << old << " old";
}

// Same scenario and seed, same journeys; and the platform credits exactly the
// conversions whose through is view or click, to the campaign of the touch.
TEST(Journeys, DeterministicAndCreditsMatchTheConversionsTable) {
  const std::string text = JourneyScenario(
      "  baseline: {s: 0.05}\n  lift: [{channel: display, kind: view, lift: 0.2, half_life: 1d, saturation: 2},"
      " {channel: display, kind: click, lift: 2, half_life: 12h}]\n  view_through_window: 1d\n"
      "  click_through_window: 7d\n",
      20000, 0.003, "2d");
  const Results a = RunScenario(test::Parse(text));
  const Results b = RunScenario(test::Parse(text));
  EXPECT_EQ(a.text_attrs.at("fingerprint"), b.text_attrs.at("fingerprint"));
  const auto& through = test::Col<std::string>(a, "journey_conversions", "through");
  const auto credited = std::count_if(through.begin(), through.end(), [](const std::string& t) { return t != "none"; });
  EXPECT_GT(credited, 0);
  EXPECT_EQ(static_cast<int64_t>(test::Col<int64_t>(a, "conversions", "campaign").size()), credited);
  const auto& kind = test::Col<std::string>(a, "journey_conversions", "cause_kind");
  EXPECT_GT(std::count(kind.begin(), kind.end(), "click"), 0);
  EXPECT_GT(std::count(kind.begin(), kind.end(), "view"), 0);
}

// journeys.truth (core/engine/journey_truth.h): the truth draws nothing, so the run is
// the same with it; with one channel and one campaign the removal effect is the Shapley
// value is v({p}) - v({}) = the incremental conversions (efficiency, exactly).
TEST(Journeys, TruthLeavesTheRunAndIsEfficient) {
  const std::string block =
      "  baseline: {s: 0.05}\n  lift: [{channel: display, kind: view, lift: 0.2, half_life: 1d, saturation: 2},"
      " {channel: display, kind: click, lift: 2, half_life: 12h}]\n";
  const Results plain = RunScenario(test::Parse(JourneyScenario(block, 5000, 0.003, "1d")));
  const Results truth = RunScenario(test::Parse(JourneyScenario(block + "  truth: true\n", 5000, 0.003, "1d")));
  EXPECT_EQ(test::Col<int64_t>(plain, "journey_conversions", "time"),
            test::Col<int64_t>(truth, "journey_conversions", "time"));
  EXPECT_EQ(test::Col<double>(plain, "journey_conversions", "value"),
            test::Col<double>(truth, "journey_conversions", "value"));
  const auto incremental = static_cast<double>(truth.int_attrs.at("journey_incremental_conversions"));
  ASSERT_GT(incremental, 10);
  const auto& scope = test::Col<std::string>(truth, "journey_truth", "scope");
  const auto& removal = test::Col<double>(truth, "journey_truth", "removal_conversions");
  const auto& shapley = test::Col<double>(truth, "journey_truth", "shapley_conversions");
  const auto& reported = test::Col<double>(truth, "journey_truth", "reported_conversions");
  ASSERT_EQ(scope.size(), 2u);  // one channel, one campaign
  for (size_t row = 0; row < scope.size(); ++row) {
    EXPECT_EQ(removal[row], incremental) << scope[row];
    EXPECT_EQ(shapley[row], incremental) << scope[row];
    // The only dashboard claims every conversion with a touch in its windows, organic ones too.
    EXPECT_GE(reported[row], incremental) << scope[row];
  }
}

// journeys.holdout: a held-out user is shown none of our ads on the channel.
// With no organic baseline and the only lift on display views, a user converts
// only after one of our display impressions, so the held-out users'
// conversions are exactly 0 and the exposed users' are all of them; the
// held-out group is a Binomial(users, 0.5) draw (4 SD tolerance). Without a
// holdout share above 0 there is no journey_holdout table.
TEST(Journeys, HeldOutUsersSeeNoAdsOfTheirChannel) {
  const int64_t users = 4000;
  const Results r = RunScenario(test::Parse(
      JourneyScenario("  lift: [{channel: display, kind: view, lift: 2, half_life: 6h}]\n  holdout: {display: 0.5}\n",
                      users, 0.01, "1d")));
  const auto& channel = test::Col<int64_t>(r, "journey_holdout", "channel");
  ASSERT_EQ(channel.size(), 1u);
  EXPECT_EQ(channel[0], 0);
  const double held = test::Col<double>(r, "journey_holdout", "held_out_users")[0];
  const double exposed = test::Col<double>(r, "journey_holdout", "exposed_users")[0];
  EXPECT_EQ(held + exposed, static_cast<double>(users));
  EXPECT_LT(std::fabs(held - 0.5 * users), 4 * std::sqrt(users * 0.25));
  const auto conversions = static_cast<double>(test::Col<int64_t>(r, "journey_conversions", "time").size());
  ASSERT_GT(conversions, 100);
  EXPECT_EQ(test::Col<double>(r, "journey_holdout", "held_out_conversions")[0], 0.0);
  EXPECT_EQ(test::Col<double>(r, "journey_holdout", "exposed_conversions")[0], conversions);
  EXPECT_EQ(test::Col<double>(r, "journey_holdout", "held_out_value")[0], 0.0);

  const Results none = RunScenario(test::Parse(
      JourneyScenario("  lift: [{channel: display, kind: view, lift: 2, half_life: 6h}]\n  holdout: {display: 0}\n",
                      users, 0.01, "1d")));
  EXPECT_EQ(none.Find("journey_holdout"), nullptr);
}

TEST(Journeys, HoldoutValidationNamesTheField) {
  const auto issues = test::IssuesOf(JourneyScenario("  holdout: {tv: 0.1, display: 0.7}\n", 100, 0.01, "1d"));
  std::map<std::string, std::string> by_path;
  for (const ConfigIssue& issue : issues) by_path[issue.path] = issue.expected + " / " + issue.found;
  EXPECT_NE(by_path["journeys.holdout.tv"].find("a channel name, one of display"), std::string::npos);
  EXPECT_NE(by_path["journeys.holdout.display"].find("0.7"), std::string::npos) << "a share above 0.5";
}

// Journeys with a funnel (docs/journeys.md, "Funnel stages"): every arrival of a
// user's hazard enters visit, cart and purchase with the stage rates of the
// touch it lands through (the credited touch; the segment's rates for a direct
// visit). Two channels, one segment, campaign k on display and m on search,
// fixed bids and no controllers, so the delivery does not depend on conversions.
std::string JourneyFunnelScenario(const std::string& funnel_extra, const std::string& extra = "",
                                  const std::string& journeys_extra = "") {
  return "name: journeys_funnel\nseed: 13\nduration: 2d\nbucket: 1h\n"
         "channels:\n"
         "  - name: display\n    traffic: {per_hour: 8000}\n"
         "    competition: {competitors: 3, median: 0.002, sigma: 0.5}\n"
         "  - name: search\n    traffic: {per_hour: 4000}\n"
         "    competition: {competitors: 3, median: 0.002, sigma: 0.5}\n"
         "segments:\n  - {name: s, users: 20000, ctr: 0.03, cvr: 0.05}\n"
         "campaigns:\n  - {name: k, channels: [display], bid: 0.01}\n  - {name: m, channels: [search], bid: 0.01}\n" +
         extra +
         "journeys:\n  baseline: {s: 0.05}\n"
         "  lift: [{channel: display, kind: view, lift: 0.02, half_life: 12h},"
         " {channel: search, kind: click, lift: 1, half_life: 1d}]\n" +
         journeys_extra + "funnel:\n  rates: {s: {visit: 0.8, cart: 0.4, purchase: 0.5}}\n" + funnel_extra;
}

// |observed - p| within 4 binomial standard errors of n trials.
void ExpectRate(double successes, double trials, double p, const std::string& what) {
  ASSERT_GT(trials, 100) << what;
  EXPECT_NEAR(successes / trials, p, 4 * std::sqrt(p * (1 - p) / trials)) << what << ": " << successes << "/" << trials;
}

// Stage counts are monotone in every row of the funnel table and over the run
// (arrivals >= visits >= carts >= purchases = conversions); the table's
// purchases per campaign and channel are the journey conversions credited
// there; and with no multiplier every stage is entered at the segment's rate
// (visit 0.8 of arrivals, cart 0.4 of visits, purchase 0.5 of carts, 4 SE).
TEST(JourneysWithAFunnel, StagesAreMonotoneAndPurchasesAreTheConversions) {
  const Results r = RunScenario(test::Parse(JourneyFunnelScenario("")));
  const auto& campaign = test::Col<int64_t>(r, "funnel", "campaign");
  const auto& channel = test::Col<int64_t>(r, "funnel", "channel");
  const auto& visits = test::Col<int64_t>(r, "funnel", "visits");
  const auto& carts = test::Col<int64_t>(r, "funnel", "carts");
  const auto& purchases = test::Col<int64_t>(r, "funnel", "purchases");
  std::map<std::pair<int64_t, int64_t>, int64_t> table_purchases, credited;
  int64_t table_visits = 0;
  for (size_t row = 0; row < campaign.size(); ++row) {
    EXPECT_GE(visits[row], carts[row]) << "row " << row;
    EXPECT_GE(carts[row], purchases[row]) << "row " << row;
    table_purchases[{campaign[row], channel[row]}] += purchases[row];
    table_visits += visits[row];
  }
  const auto& credited_campaign = test::Col<int64_t>(r, "journey_conversions", "credited_campaign");
  const auto& credited_channel = test::Col<int64_t>(r, "journey_conversions", "credited_channel");
  for (size_t i = 0; i < credited_campaign.size(); ++i)
    if (credited_campaign[i] >= 0) ++credited[{credited_campaign[i], credited_channel[i]}];
  EXPECT_EQ(table_purchases.size(), 2u) << "k on display and m on search";
  for (const auto& [cell, count] : credited)
    EXPECT_EQ(table_purchases[cell], count) << cell.first << "/" << cell.second;
  for (const auto& [cell, count] : table_purchases)
    EXPECT_EQ(credited[cell], count) << cell.first << "/" << cell.second;

  const auto conversions = static_cast<double>(credited_campaign.size());
  const auto arrivals = static_cast<double>(r.int_attrs.at("journey_funnel_arrivals"));
  const auto all_visits = static_cast<double>(r.int_attrs.at("journey_funnel_visits"));
  const auto all_carts = static_cast<double>(r.int_attrs.at("journey_funnel_carts"));
  EXPECT_EQ(conversions, static_cast<double>(r.int_attrs.at("journey_organic_conversions") +
                                             r.int_attrs.at("journey_incremental_conversions")));
  EXPECT_GE(all_visits, static_cast<double>(table_visits)) << "direct visits are not in the table";
  EXPECT_GE(arrivals, all_visits);
  EXPECT_GE(all_visits, all_carts);
  EXPECT_GE(all_carts, conversions);
  ExpectRate(all_visits, arrivals, 0.8, "visit");
  ExpectRate(all_carts, all_visits, 0.4, "cart");
  ExpectRate(conversions, all_carts, 0.5, "purchase");
}

// A stage multiplier of a channel scales the conversions landing through it:
// with display's purchase rate times 0.5 the conversions credited to display
// halve, the others (search, direct) stay; and (a third run) a cart shock on
// display from 12h to 36h halves display's cart rate then only. The runs' deliveries are
// identical (fixed bids, no controller), so each count is binomial over the
// same expected arrivals: log(ratio) has standard error sqrt(1/a + 1/b); 4 SE.
TEST(JourneysWithAFunnel, AStageMultiplierScalesItsConversionsAndShocksApply) {
  const Results plain = RunScenario(test::Parse(JourneyFunnelScenario("")));
  const Results halved = RunScenario(test::Parse(JourneyFunnelScenario("  channels: {display: {purchase: 0.5}}\n")));
  auto count = [](const Results& r, bool display) {
    const auto& channel = test::Col<int64_t>(r, "journey_conversions", "credited_channel");
    return static_cast<double>(
        std::count_if(channel.begin(), channel.end(), [&](int64_t c) { return display ? c == 0 : c != 0; }));
  };
  const double display_before = count(plain, true), display_after = count(halved, true);
  const double other_before = count(plain, false), other_after = count(halved, false);
  ASSERT_GT(display_before, 300);
  ASSERT_GT(other_before, 300);
  EXPECT_NEAR(std::log(display_after / display_before), std::log(0.5),
              4 * std::sqrt(1 / display_after + 1 / display_before));
  EXPECT_NEAR(std::log(other_after / other_before), 0.0, 4 * std::sqrt(1 / other_after + 1 / other_before));

  // The cart rate of visits landing through display, in and out of the shock, from the funnel table.
  const Results shocked = RunScenario(
      test::Parse(JourneyFunnelScenario("  channels: {display: {purchase: 0.5}}\n",
                                        "shocks: [{name: cart_drop, start: 12h, end: 36h, channels: [display], "
                                        "multiply: {cart: 0.5}}]\n")));
  const auto& bucket = test::Col<int64_t>(shocked, "funnel", "bucket_start");
  const auto& channel = test::Col<int64_t>(shocked, "funnel", "channel");
  const auto& visits = test::Col<int64_t>(shocked, "funnel", "visits");
  const auto& carts = test::Col<int64_t>(shocked, "funnel", "carts");
  const auto& purchases = test::Col<int64_t>(shocked, "funnel", "purchases");
  double in_visits = 0, in_carts = 0, out_visits = 0, out_carts = 0, search_visits = 0, search_carts = 0,
         display_carts = 0, display_purchases = 0;
  for (size_t row = 0; row < bucket.size(); ++row) {
    if (channel[row] == 1) {
      search_visits += visits[row], search_carts += carts[row];
      continue;
    }
    const bool in_shock = bucket[row] >= 12 * kMicrosPerHour && bucket[row] < 36 * kMicrosPerHour;
    (in_shock ? in_visits : out_visits) += visits[row];
    (in_shock ? in_carts : out_carts) += carts[row];
    display_carts += carts[row], display_purchases += purchases[row];
  }
  ExpectRate(in_carts, in_visits, 0.2, "display cart rate under the shock");
  ExpectRate(out_carts, out_visits, 0.4, "display cart rate outside the shock");
  ExpectRate(search_carts, search_visits, 0.4, "search cart rate");
  ExpectRate(display_purchases, display_carts, 0.25, "display purchase rate (multiplier 0.5)");
}

// The truth with a funnel: the stage draws do not depend on the lift, so every
// counterfactual shares them; the truth still draws nothing (the run is the
// same without it) and the Shapley values still add up to the incremental
// conversions, which are now those that reached the purchase stage.
TEST(JourneysWithAFunnel, TruthLeavesTheRunAndIsEfficient) {
  const Results plain = RunScenario(test::Parse(JourneyFunnelScenario("")));
  const Results truth = RunScenario(test::Parse(JourneyFunnelScenario("", "", "  truth: true\n")));
  EXPECT_EQ(test::Col<int64_t>(plain, "journey_conversions", "time"),
            test::Col<int64_t>(truth, "journey_conversions", "time"));
  EXPECT_EQ(test::Col<int64_t>(plain, "funnel", "carts"), test::Col<int64_t>(truth, "funnel", "carts"));
  const auto incremental = static_cast<double>(truth.int_attrs.at("journey_incremental_conversions"));
  ASSERT_GT(incremental, 100);
  const auto& scope = test::Col<std::string>(truth, "journey_truth", "scope");
  const auto& removal = test::Col<double>(truth, "journey_truth", "removal_conversions");
  const auto& shapley = test::Col<double>(truth, "journey_truth", "shapley_conversions");
  const auto& cause = test::Col<double>(truth, "journey_truth", "cause_conversions");
  std::map<std::string, double> shapley_sum, cause_sum;
  for (size_t row = 0; row < scope.size(); ++row) {
    shapley_sum[scope[row]] += shapley[row];
    cause_sum[scope[row]] += cause[row];
    EXPECT_GE(removal[row], 0);
    EXPECT_LE(removal[row], incremental);
  }
  for (const std::string name : {"channel", "campaign"}) {
    EXPECT_NEAR(shapley_sum[name], incremental, 1e-9 * incremental) << name;
    EXPECT_EQ(cause_sum[name], incremental) << name;
  }
}

}  // namespace
}  // namespace adsim
