// End-to-end properties of the engine: determinism, common random numbers,
// delayed conversions, event order at midnight, guardrails, HDF5 round trip.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <type_traits>
#include <variant>

#include "core/registry.h"
#include "core/summary.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;
using test::Parse;
using test::SmallScenario;

// ---- Test components, registered under test_ names.

// Records what it observes each cycle.
struct Observation {
  SimTime time;
  int64_t conversions;  // reported so far, all campaigns
  std::vector<double> spend_today;
};
std::vector<Observation>& Observations() {
  static std::vector<Observation> v;
  return v;
}

class Observer final : public Controller {
 public:
  void OnCycle(const Snapshot& snap, int, std::vector<Action>*) override {
    Observation o{snap.time, 0, {}};
    for (size_t c = 0; c < snap.campaigns.size(); ++c) {
      o.conversions += snap.CampaignTotal(snap.total, static_cast<int>(c)).conversions;
      o.spend_today.push_back(snap.campaigns[c].spend_today);
    }
    Observations().push_back(o);
  }
};
const Registration kObserver({.name = "test_observer",
                              .kind = ComponentKind::kController,
                              .description = "test: records snapshots",
                              .params = {},
                              .campaign_scoped = false,
                              .origin = "C++",
                              .make_bidder = nullptr,
                              .make_controller = [](const BuildContext&) -> std::unique_ptr<Controller> {
                                return std::make_unique<Observer>();
                              }});

// Multiplies the campaign's bid by `factor` at cycle number `at_cycle`.
class Scripted final : public Controller {
 public:
  explicit Scripted(const BuildContext& ctx)
      : factor_(ctx.params.Number("factor")), at_(static_cast<int>(ctx.params.Number("at_cycle"))) {}
  void OnCycle(const Snapshot& snap, int campaign, std::vector<Action>* actions) override {
    if (++cycle_ != at_) return;
    Action a;
    a.kind = ActionKind::kSetBid;
    a.campaign = campaign;
    a.value = snap.campaigns[campaign].bid * factor_;
    a.reason = "scripted";
    actions->push_back(a);
  }

 private:
  double factor_;
  int at_;
  int cycle_ = 0;
};
const Registration kScripted({.name = "test_scripted",
                              .kind = ComponentKind::kController,
                              .description = "test: one bid change",
                              .params = {NumberParam("factor", 2.0, "bid multiplier"),
                                         NumberParam("at_cycle", 1, "cycle number")},
                              .campaign_scoped = true,
                              .origin = "C++",
                              .make_bidder = nullptr,
                              .make_controller = [](const BuildContext& ctx) -> std::unique_ptr<Controller> {
                                return std::make_unique<Scripted>(ctx);
                              }});

// Emits one action of each kind on its first cycles, as scripted by `plan`.
class ActionScript final : public Controller {
 public:
  void OnCycle(const Snapshot&, int campaign, std::vector<Action>* actions) override {
    ++cycle_;
    auto add = [&](ActionKind k, double v, int segment = -1, int creative = -1) {
      Action a;
      a.kind = k;
      a.campaign = campaign;
      a.value = v;
      a.segment = segment;
      a.creative = creative;
      actions->push_back(a);
    };
    switch (cycle_) {
      case 5:
        add(ActionKind::kPauseCreative, 0, -1, 0);
        break;  // 1:00 (cycle 1 is at 0:00)
      case 9:
        add(ActionKind::kSetSegmentModifier, 0.6, 1);
        break;  // 2:00
      case 13:
        add(ActionKind::kSetDailyBudget, 70);
        break;  // 3:00
      case 17:
        add(ActionKind::kPauseCampaign, 0);
        break;  // 4:00
      case 21:
        add(ActionKind::kResumeCampaign, 0);
        break;  // 5:00
      case 25:
        add(ActionKind::kResumeCreative, 0, -1, 0);
        break;  // 6:00
      case 29:
        add(ActionKind::kPauseCreative, 0, -1, 9);
        break;  // no such creative
      case 30:
        add(ActionKind::kSetTotalBudget, 500);
        break;  // from none: absolute bounds only
      default:
        break;
    }
  }

 private:
  int cycle_ = 0;
};
const Registration kActionScript({.name = "test_action_script",
                                  .kind = ComponentKind::kController,
                                  .description = "test: one action of each kind",
                                  .params = {},
                                  .campaign_scoped = true,
                                  .origin = "C++",
                                  .make_bidder = nullptr,
                                  .make_controller = [](const BuildContext&) -> std::unique_ptr<Controller> {
                                    return std::make_unique<ActionScript>();
                                  }});

// Bids `value` on every request, whatever the campaign's settings say.
class Constant final : public Bidder {
 public:
  explicit Constant(double v) : v_(v) {}
  double Bid(const BidRequest&, const CampaignState&) override { return v_; }

 private:
  double v_;
};
const Registration kConstant({.name = "test_constant",
                              .kind = ComponentKind::kBidder,
                              .description = "test: bids a constant",
                              .params = {NumberParam("value", 1.0, "the bid")},
                              .campaign_scoped = true,
                              .origin = "C++",
                              .make_bidder = [](const BuildContext& ctx) -> std::unique_ptr<Bidder> {
                                return std::make_unique<Constant>(ctx.params.Number("value"));
                              },
                              .make_controller = nullptr});

// ---- Tests

TEST(Engine, EveryActionKindTakesEffectFromItsCycle) {
  std::string text = SmallScenario("", "    controllers: [test_action_script]\n", "1d", 40000);
  text.replace(text.find("budget: {daily: 60}"), 19, "budget: {daily: 1000}");
  const Results r = RunScenario(Parse(text));
  const auto& kind = Col<std::string>(r, "actions", "kind");
  const auto& status = Col<std::string>(r, "actions", "status");
  ASSERT_EQ(kind.size(), 8u);
  EXPECT_EQ(kind[0], "pause_creative");
  EXPECT_EQ(status[6], "rejected");  // creative 9 does not exist
  EXPECT_EQ(status[7], "applied");
  EXPECT_EQ(Col<double>(r, "actions", "new")[7], 500.0);
  // Requests per (hour, creative, segment) of campaign 0.
  const auto& bucket = Col<int64_t>(r, "aggregates", "bucket_start");
  const auto& camp = Col<int64_t>(r, "aggregates", "campaign");
  const auto& creative = Col<int64_t>(r, "aggregates", "creative");
  const auto& seg = Col<int64_t>(r, "aggregates", "segment");
  const auto& req = Col<int64_t>(r, "aggregates", "opportunities");
  const auto& bids = Col<int64_t>(r, "aggregates", "bids");
  auto sum = [&](int hour, int cr, int s, const std::vector<int64_t>& v) {
    int64_t t = 0;
    for (size_t i = 0; i < bucket.size(); ++i)
      if (camp[i] == 0 && bucket[i] == hour * kMicrosPerHour && (cr < 0 || creative[i] == cr) && (s < 0 || seg[i] == s))
        t += v[i];
    return t;
  };
  EXPECT_GT(sum(0, 0, -1, req), 0);  // creative 0 served before the pause
  EXPECT_EQ(sum(2, 0, -1, req), 0);  // not while paused
  EXPECT_GT(sum(2, 1, -1, req), 0);
  EXPECT_EQ(sum(4, -1, -1, req), 0);  // campaign paused from 4:00 to 5:00
  EXPECT_GT(sum(5, -1, -1, req), 0);
  EXPECT_GT(sum(7, 0, -1, req), 0);  // creative 0 resumed at 6:00
  // The segment modifier changes the bid (0.003 x 0.6 = 0.0018), visible as a
  // lower win rate in segment 1 than in segment 0 after 2:00, not before.
  const auto& wins = Col<int64_t>(r, "aggregates", "wins");
  auto rate = [&](int from, int to, int s) {
    double w = 0, b = 0;
    for (int h = from; h < to; ++h) {
      w += static_cast<double>(sum(h, -1, s, wins));
      b += static_cast<double>(sum(h, -1, s, bids));
    }
    return w / b;
  };
  EXPECT_LT(rate(6, 12, 1), 0.8 * rate(6, 12, 0));
  EXPECT_NEAR(rate(0, 2, 1), rate(0, 2, 0), 0.1);
  // The daily budget in force is recorded.
  EXPECT_EQ(Col<double>(r, "daily", "daily_budget")[0], 1000 * 0.5);  // 70 asked: clamped to -50%
}

// Equal column data, NaN equal to NaN (auction_insights' shares are NaN on
// days without eligible opportunities).
template <class Data>
bool SameData(const Data& x, const Data& y) {
  if (x.index() != y.index()) return false;
  return std::visit(
      [&y](const auto& u) {
        using Vector = std::decay_t<decltype(u)>;
        const Vector& w = std::get<Vector>(y);
        if constexpr (std::is_same_v<typename Vector::value_type, double>) {
          if (u.size() != w.size()) return false;
          for (size_t k = 0; k < u.size(); ++k)
            if (!(u[k] == w[k] || (std::isnan(u[k]) && std::isnan(w[k])))) return false;
          return true;
        } else {
          return u == w;
        }
      },
      x);
}

TEST(Engine, SameSeedSameResultsOtherSeedDiffers) {
  const Scenario sc = Parse(SmallScenario("recording: {events: true}\n"));
  const Results a = RunScenario(sc), b = RunScenario(sc);
  EXPECT_EQ(Fingerprint(a), Fingerprint(b));
  ASSERT_EQ(a.tables.size(), b.tables.size());
  for (size_t i = 0; i < a.tables.size(); ++i)
    for (size_t j = 0; j < a.tables[i].columns().size(); ++j)
      EXPECT_TRUE(SameData(a.tables[i].columns()[j].data, b.tables[i].columns()[j].data))
          << a.tables[i].name() << "." << a.tables[i].columns()[j].name;
  RunOptions other;
  other.seed = 8;
  const Results c = RunScenario(sc, other);
  EXPECT_NE(Fingerprint(a), Fingerprint(c));
  EXPECT_NE(Col<int64_t>(a, "events", "time"), Col<int64_t>(c, "events", "time"));
  EXPECT_GT(a.int_attrs.at("opportunities"), 10000);
}

TEST(Engine, CommonRandomNumbersAcrossStrategies) {
  // Two different strategies on one seed: a fixed bid, and PID pacing from a
  // different bid with a different budget. The market must be identical.
  const Scenario fixed = Parse(SmallScenario("recording: {events: true}\n"));
  std::string text = SmallScenario("recording: {events: true}\n", "    controllers: [pid_pacing]\n");
  text.replace(text.find("bid: 0.003"), 10, "bid: 0.008");
  text.replace(text.find("budget: {daily: 60}"), 19, "budget: {daily: 9}");
  const Scenario paced = Parse(text);
  const Results a = RunScenario(fixed), b = RunScenario(paced);
  for (const char* col : {"time", "channel", "segment", "user"})
    EXPECT_EQ(Col<int64_t>(a, "events", col), Col<int64_t>(b, "events", col)) << col;
  EXPECT_EQ(Col<double>(a, "events", "top_competing_bid"), Col<double>(b, "events", "top_competing_bid"));
  EXPECT_EQ(Col<double>(a, "events", "propensity"), Col<double>(b, "events", "propensity"));
  EXPECT_EQ(Col<int64_t>(a, "market", "opportunities"), Col<int64_t>(b, "market", "opportunities"));
  // ... while the strategies' outcomes differ.
  EXPECT_NE(Col<double>(a, "aggregates", "spend"), Col<double>(b, "aggregates", "spend"));
  EXPECT_NE(Col<int64_t>(a, "events", "winner"), Col<int64_t>(b, "events", "winner"));
}

TEST(Engine, ShocksThatDoNotChangeTrafficLeaveTheOpportunityStreamAlone) {
  const Scenario plain = Parse(SmallScenario("recording: {events: true}\n"));
  const Scenario shocked =
      Parse(SmallScenario("recording: {events: true}\nshocks:\n  - {name: s, start: 3h, end: 9h, multiply: {ctr: 0.3, "
                          "cvr: 2, competing_bids: 1.5}}\n"));
  const Results a = RunScenario(plain), b = RunScenario(shocked);
  for (const char* col : {"time", "channel", "segment", "user"})
    EXPECT_EQ(Col<int64_t>(a, "events", col), Col<int64_t>(b, "events", col)) << col;
  EXPECT_NE(Col<double>(a, "events", "top_competing_bid"), Col<double>(b, "events", "top_competing_bid"));
}

TEST(Engine, DelayedConversionsArriveAtTheirTimeAndNotBefore) {
  Observations().clear();
  const Scenario sc = Parse(SmallScenario("controllers: [test_observer]\n", "", "2d", 40000));
  const Results r = RunScenario(sc);
  const auto& click = Col<int64_t>(r, "conversions", "click_time");
  const auto& time = Col<int64_t>(r, "conversions", "time");
  const auto& reported = Col<int64_t>(r, "conversions", "reported");
  ASSERT_GT(time.size(), 50u) << "the scenario must produce conversions for this test to mean anything";
  for (size_t i = 0; i < time.size(); ++i) {
    EXPECT_GT(time[i], click[i]);  // a conversion comes strictly after its click
    if (time[i] >= sc.duration) {
      EXPECT_EQ(reported[i], 0);  // after the end: never seen
    }
  }
  // At every control cycle t the advertiser has seen exactly the conversions
  // whose time is <= t (conversions at t run before the cycle at t).
  ASSERT_FALSE(Observations().empty());
  for (const auto& o : Observations()) {
    int64_t due = 0;
    for (size_t i = 0; i < time.size(); ++i) due += reported[i] && time[i] <= o.time;
    ASSERT_EQ(o.conversions, due) << "at t=" << o.time;
  }
  // And the aggregates count each reported conversion once.
  int64_t agg = 0;
  for (int64_t v : Col<int64_t>(r, "aggregates", "conversions")) agg += v;
  int64_t rep = 0;
  for (int64_t v : reported) rep += v;
  EXPECT_EQ(agg, rep);
}

TEST(Engine, TrackingOutageLosesConversionsInItsWindowOnly) {
  const Scenario sc = Parse(SmallScenario(
      "shocks:\n  - {name: outage, start: 3h, end: 9h, multiply: {conversion_tracking: 0}}\n", "", "1d", 40000));
  const Results r = RunScenario(sc);
  const auto& time = Col<int64_t>(r, "conversions", "time");
  const auto& reported = Col<int64_t>(r, "conversions", "reported");
  int inside = 0, outside_reported = 0;
  for (size_t i = 0; i < time.size(); ++i) {
    if (time[i] >= 3 * kMicrosPerHour && time[i] < 9 * kMicrosPerHour) {
      EXPECT_EQ(reported[i], 0);
      ++inside;
    } else if (time[i] < sc.duration) {
      EXPECT_EQ(reported[i], 1);
      ++outside_reported;
    }
  }
  EXPECT_GT(inside, 10);
  EXPECT_GT(outside_reported, 10);
}

TEST(Engine, DayStartRunsBeforeTheMidnightCycle) {
  Observations().clear();
  RunScenario(Parse(SmallScenario("controllers: [test_observer]\n", "", "2d")));
  bool saw_midnight = false;
  for (const auto& o : Observations()) {
    if (o.time % kMicrosPerDay == 0) {
      saw_midnight = true;
      for (double s : o.spend_today) EXPECT_EQ(s, 0.0) << "at t=" << o.time;
    }
  }
  EXPECT_TRUE(saw_midnight);
}

TEST(Engine, GuardrailsClampAndHoldControllerActions) {
  // Cycle 1 asks x1.8 (max_change 0.5: clamped to x1.5); cycle 2 asks x10
  // (review_threshold 1.0: held, the bid stays).
  std::string text = SmallScenario("guardrails: {max_change: 0.5, review_threshold: 1.0, max_bid: 100}\n",
                                   "    controllers: [{type: test_scripted, params: {factor: 1.8, at_cycle: 1}},\n"
                                   "                  {type: test_scripted, params: {factor: 10, at_cycle: 2}}]\n");
  const Results r = RunScenario(Parse(text));
  const auto& status = Col<std::string>(r, "actions", "status");
  const auto& old_v = Col<double>(r, "actions", "old");
  const auto& new_v = Col<double>(r, "actions", "new");
  const auto& req = Col<double>(r, "actions", "requested");
  ASSERT_EQ(status.size(), 2u);
  EXPECT_EQ(status[0], "clamped");
  EXPECT_DOUBLE_EQ(req[0], 0.003 * 1.8);
  EXPECT_DOUBLE_EQ(new_v[0], 0.003 * 1.5);
  EXPECT_EQ(status[1], "held");
  EXPECT_DOUBLE_EQ(old_v[1], 0.003 * 1.5);
  EXPECT_DOUBLE_EQ(new_v[1], 0.003 * 1.5);  // not applied
  EXPECT_EQ(Col<std::string>(r, "actions", "reason")[0], "scripted");
}

TEST(Engine, BidsAreCappedByMaxBid) {
  // A bidder bidding 1000 with max_bid 0.004: the campaign pays at most 0.004 per impression.
  std::string text =
      SmallScenario("", "    bidder: {type: test_constant, params: {value: 1000}}\n    guardrails: {max_bid: 0.004}\n");
  text.replace(text.find("budget: {daily: 60}"), 19, "budget: {daily: 100000}");
  const Results r = RunScenario(Parse(text));
  const auto& camp = Col<int64_t>(r, "aggregates", "campaign");
  const auto& chan = Col<int64_t>(r, "aggregates", "channel");
  const auto& spend = Col<double>(r, "aggregates", "spend");
  const auto& wins = Col<int64_t>(r, "aggregates", "wins");
  double s = 0;
  int64_t w = 0;
  for (size_t i = 0; i < camp.size(); ++i)
    if (camp[i] == 0 && chan[i] == 0) {
      s += spend[i];
      w += wins[i];
    }
  ASSERT_GT(w, 100);
  EXPECT_LE(s, 0.004 * static_cast<double>(w) + 1e-9);
}

TEST(Engine, AggregatesAgreeWithTheLedgerAndTheMarket) {
  const Results r = RunScenario(Parse(SmallScenario("", "", "3d")));
  std::map<int64_t, double> agg_spend, daily_spend;
  const auto& camp = Col<int64_t>(r, "aggregates", "campaign");
  const auto& spend = Col<double>(r, "aggregates", "spend");
  const auto& opp = Col<int64_t>(r, "aggregates", "opportunities");
  const auto& bids = Col<int64_t>(r, "aggregates", "bids");
  const auto& wins = Col<int64_t>(r, "aggregates", "wins");
  const auto& clicks = Col<int64_t>(r, "aggregates", "clicks");
  for (size_t i = 0; i < camp.size(); ++i) {
    agg_spend[camp[i]] += spend[i];
    EXPECT_LE(bids[i], opp[i]);
    EXPECT_LE(wins[i], bids[i]);
    EXPECT_LE(clicks[i], wins[i]);
  }
  const auto& dc = Col<int64_t>(r, "daily", "campaign");
  const auto& ds = Col<double>(r, "daily", "spend");
  for (size_t i = 0; i < dc.size(); ++i) daily_spend[dc[i]] += ds[i];
  for (auto [c, s] : daily_spend) EXPECT_NEAR(agg_spend[c], s, 1e-6 * (1 + s)) << "campaign " << c;
  // The market table counts every opportunity once.
  int64_t total = 0;
  for (int64_t v : Col<int64_t>(r, "market", "opportunities")) total += v;
  EXPECT_EQ(total, r.int_attrs.at("opportunities"));
  EXPECT_EQ(Col<int64_t>(r, "daily", "day_start").size(), 3u * 2u);  // 3 days x 2 campaigns
}

TEST(Results, Hdf5RoundTripKeepsEveryTableAndAttribute) {
  const Results r = RunScenario(Parse(SmallScenario("recording: {events: true, max_events: 5000}\n")));
  EXPECT_EQ(r.int_attrs.at("events_truncated"), 1);
  EXPECT_EQ(Col<int64_t>(r, "events", "time").size(), 5000u);
  const std::string path = ::testing::TempDir() + "/adsim_roundtrip.h5";
  WriteResultsHdf5(r, path);
  const Results back = ReadResultsHdf5(path);
  EXPECT_EQ(Fingerprint(back), Fingerprint(r));
  EXPECT_EQ(back.text_attrs.at("fingerprint"), r.text_attrs.at("fingerprint"));
  EXPECT_EQ(back.text_attrs.at("scenario"), r.text_attrs.at("scenario"));
  EXPECT_EQ(back.text_attrs.at("seed"), "7");
  EXPECT_EQ(back.int_attrs.at("schema_version"), kSchemaVersion);
  EXPECT_EQ(back.text_attrs.at("boost_version"), BoostVersion());
  EXPECT_EQ(back.tables.size(), r.tables.size());
  EXPECT_EQ(FormatSummary(back), FormatSummary(r));
  std::remove(path.c_str());
}

TEST(Results, FailedWriteLeavesNoFile) {
  const Results r = RunScenario(Parse(SmallScenario()));
  EXPECT_THROW(WriteResultsHdf5(r, "/nonexistent-dir/out.h5"), IoError);
  // A table whose columns disagree fails mid-write: neither the file nor the
  // temporary remains.
  Results bad = r;
  bad.tables.front().columns().front().data = std::vector<int64_t>{1, 2, 3};
  const std::string path = ::testing::TempDir() + "/adsim_bad.h5";
  std::remove(path.c_str());
  EXPECT_THROW(WriteResultsHdf5(bad, path), InvariantError);
  std::ifstream f(path);
  EXPECT_FALSE(f.good());
  const std::string tmp_prefix = "adsim_bad.h5.tmp-" + std::to_string(::getpid()) + "-";
  for (const auto& entry : std::filesystem::directory_iterator(::testing::TempDir()))
    EXPECT_NE(entry.path().filename().string().rfind(tmp_prefix, 0), 0u) << entry.path();
}

TEST(Results, ReadingSomethingElseIsADataError) {
  const std::string path = ::testing::TempDir() + "/adsim_not_h5.h5";
  {
    std::ofstream out(path);
    out << "not an hdf5 file\n";
  }
  try {
    ReadResultsHdf5(path);
    FAIL();
  } catch (const DataError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos);
  }
  EXPECT_THROW(ReadResultsHdf5("/nonexistent/x.h5"), IoError);
}

TEST(Registry, ListsEveryRegisteredComponent) {
  std::vector<std::string> names;
  for (const auto& info : Registry::Global().List()) {
    names.push_back(info->name);
    EXPECT_FALSE(info->description.empty()) << info->name;
    if (info->kind == ComponentKind::kBidder) {
      EXPECT_TRUE(info->make_bidder) << info->name;
    } else if (info->kind == ComponentKind::kController) {
      EXPECT_TRUE(info->make_controller) << info->name;
    } else if (info->kind == ComponentKind::kAnalysis) {
      EXPECT_TRUE(info->make_analysis) << info->name;
    } else {
      EXPECT_TRUE(info->make_monitor) << info->name;
    }
  }
  for (const char* expected : {"fixed", "pid_pacing", "kpi_cusum", "pace_alert", "ab_test"})
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
}

TEST(Registry, DuplicateNamesAreRefused) {
  ComponentInfo info = *Registry::Global().Find(ComponentKind::kBidder, "fixed");
  EXPECT_THROW(Registry::Global().Add(info), ConfigError);
}

}  // namespace
}  // namespace adsim

namespace adsim {
namespace {

TEST(Engine, RampShocksDriftLinearly) {
  // CTR ramps from x1 at 24h to x0.2 at 48h in 1-hour steps: in hour h of the
  // window the multiplier is 1 - 0.8 h / 24. Compare the click rate of each
  // 6-hour quarter with its mean multiplier (SE from the binomial counts).
  const Results r =
      RunScenario(test::Parse("name: ramp\nseed: 9\nduration: 3d\n"
                              "channels:\n  - name: display\n    traffic: {per_hour: 60000}\n"
                              "    competition: {competitors: 5, median: 0.002, sigma: 0.6}\n"
                              "segments:\n  - {name: s, ctr: 0.02, cvr: 0.05}\n"
                              "campaigns:\n  - {name: k, bid: 0.003}\n"
                              "shocks: [{name: drift, start: 1d, end: 2d, shape: ramp, multiply: {ctr: 0.2}}]\n"));
  const auto& bucket = Col<int64_t>(r, "aggregates", "bucket_start");
  const auto& imps = Col<int64_t>(r, "aggregates", "impressions");
  const auto& clicks = Col<int64_t>(r, "aggregates", "clicks");
  auto ctr_between = [&](int from_h, int to_h) {
    double c = 0, n = 0;
    for (size_t i = 0; i < bucket.size(); ++i)
      if (bucket[i] >= from_h * kMicrosPerHour && bucket[i] < to_h * kMicrosPerHour) {
        c += static_cast<double>(clicks[i]);
        n += static_cast<double>(imps[i]);
      }
    return std::make_pair(c / n, n);
  };
  const double base = ctr_between(0, 24).first;
  for (int q = 0; q < 4; ++q) {
    // Mean of 1 - 0.8 h / 24 over h = 6q .. 6q + 5 (steps at whole hours).
    double mult = 0;
    for (int h = 6 * q; h < 6 * q + 6; ++h) mult += (1 - 0.8 * h / 24.0) / 6;
    const auto [ctr, n] = ctr_between(24 + 6 * q, 30 + 6 * q);
    const double expected = base * mult;
    EXPECT_NEAR(ctr, expected, 4 * std::sqrt(expected / n) + 4 * base * 0.02) << "quarter " << q;
  }
  EXPECT_NEAR(ctr_between(48, 72).first, base, 4 * std::sqrt(base / ctr_between(48, 72).second) + 0.02 * base);
  EXPECT_EQ(Col<std::string>(r, "truth_shocks", "shape")[0], "ramp");
}

TEST(ScenarioErrors, MonitorNamesMustBeUnique) {
  const auto issues =
      test::IssuesOf(test::SmallScenario("monitors: [kpi_cusum, {type: kpi_cusum, params: {metric: cvr}}]\n"));
  ASSERT_FALSE(issues.empty());
  EXPECT_EQ(issues[0].path, "monitors[1]");
  EXPECT_NO_THROW(test::Parse(
      test::SmallScenario("monitors: [kpi_cusum, {type: kpi_cusum, label: cvr_cusum, params: {metric: cvr}}]\n")));
}

}  // namespace
}  // namespace adsim

namespace adsim {
namespace {

// Asks to raise segment b's modifier every cycle.
class PushSegment final : public Controller {
 public:
  void OnCycle(const Snapshot&, int campaign, std::vector<Action>* actions) override {
    Action a;
    a.kind = ActionKind::kSetSegmentModifier;
    a.campaign = campaign;
    a.segment = 1;
    a.value = 1.2;
    actions->push_back(a);
  }
};
const Registration kPushSegment({.name = "test_push_segment",
                                 .kind = ComponentKind::kController,
                                 .description = "test: raises segment 1",
                                 .params = {},
                                 .campaign_scoped = true,
                                 .origin = "C++",
                                 .make_bidder = nullptr,
                                 .make_controller = [](const BuildContext&) -> std::unique_ptr<Controller> {
                                   return std::make_unique<PushSegment>();
                                 }});

TEST(BrandSafety, BlockedSegmentsAndChannelsAreNeverBought) {
  // Campaign one blocks segment b; the scenario blocks nothing else. Its
  // bidder bids anything (test_adversarial) and a controller keeps asking to
  // raise segment b: nothing is bought there, and the asks are rejected.
  const Results r = RunScenario(
      test::Parse(test::SmallScenario("",
                                      "    bidder: test_adversarial\n    controllers: [test_push_segment]\n    "
                                      "guardrails: {blocked_segments: [b], max_bid: 1e9}\n")));
  const auto& camp = Col<int64_t>(r, "aggregates", "campaign");
  const auto& seg = Col<int64_t>(r, "aggregates", "segment");
  const auto& opp = Col<int64_t>(r, "aggregates", "opportunities");
  int64_t in_a = 0;
  for (size_t i = 0; i < camp.size(); ++i) {
    if (camp[i] != 0) continue;
    if (seg[i] == 1) {
      EXPECT_EQ(opp[i], 0);
    } else {
      in_a += opp[i];
    }
  }
  EXPECT_GT(in_a, 1000);
  const auto& status = Col<std::string>(r, "actions", "status");
  ASSERT_FALSE(status.empty());
  for (const auto& s : status) EXPECT_EQ(s, "rejected");
  EXPECT_EQ(Col<std::string>(r, "actions", "note")[0], "segment blocked by brand safety");
  // A scenario-wide channel block applies to every campaign.
  const Results c = RunScenario(test::Parse(test::SmallScenario("guardrails: {blocked_channels: [search]}\n")));
  const auto& ch = Col<int64_t>(c, "aggregates", "channel");
  for (size_t i = 0; i < ch.size(); ++i) EXPECT_NE(ch[i], 1);
  // Unknown names are errors with their path.
  const auto issues = test::IssuesOf(test::SmallScenario("guardrails: {blocked_segments: [teens]}\n"));
  ASSERT_FALSE(issues.empty());
  EXPECT_EQ(issues[0].path, "guardrails.blocked_segments[0]");
}

}  // namespace
}  // namespace adsim
