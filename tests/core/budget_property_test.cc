// Property: budgets are hard caps at every level. Random scenarios (channels,
// billing, auctions, budgets from one micro to large, every registered C++
// controller and bidder, random guardrails, an account cap, and an
// adversarial controller that asks for anything) never spend more than a
// campaign's daily or total budget ceiling, the account cap, or, when
// budget_reallocation is the only controller that moves budgets, its pool:
// checked to the micro. CI runs ADSIM_BUDGET_PROPERTY_RUNS scenarios (200 by
// default, a few seconds); bench/budget_property.sh runs thousands.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/guardrails.h"
#include "core/ledger.h"
#include "core/registry.h"
#include "tests/core/test_util.h"

namespace adsim {
namespace {

using test::Col;

Micros ToMicros(double units) { return std::llround(units * kMicrosPerUnit); }

// Asks for anything, every cycle: every action kind, on campaigns, segments
// and creatives that exist or not, with values that are zero, negative, NaN,
// infinite, enormous, tiny, exactly the spend, a micro either side of it, or a
// random multiple of the current setting; some ask for review.
class Adversary final : public Controller {
 public:
  explicit Adversary(const BuildContext& ctx) : rng_(static_cast<uint64_t>(ctx.params.Number("seed"))) {}
  void OnCycle(const Snapshot& snap, int, std::vector<Action>* actions) override {
    const int nc = static_cast<int>(snap.campaigns.size());
    const int count = static_cast<int>(rng_() % 5);
    for (int k = 0; k < count; ++k) {
      Action a;
      a.kind = static_cast<ActionKind>(rng_() % 9);
      a.campaign = static_cast<int>(rng_() % (nc + 1)) - (rng_() % 16 == 0 ? 1 : 0);
      a.segment = static_cast<int>(rng_() % (snap.num_segments + 1)) - 1;
      a.creative = static_cast<int>(rng_() % 4) - 1;
      a.review = rng_() % 10 == 0;
      const CampaignState* st = a.campaign >= 0 && a.campaign < nc ? &snap.campaigns[a.campaign] : nullptr;
      const double current = !st                                     ? 1.0
                             : a.kind == ActionKind::kSetDailyBudget ? st->daily_budget
                             : a.kind == ActionKind::kSetTotalBudget ? st->total_budget
                             : a.kind == ActionKind::kSetBid         ? st->bid
                                                                     : 1.0;
      const double spend = !st ? 0.0 : a.kind == ActionKind::kSetTotalBudget ? st->spend_total : st->spend_today;
      switch (rng_() % 12) {
        case 0:
          a.value = 0;
          break;
        case 1:
          a.value = -1;
          break;
        case 2:
          a.value = std::nan("");
          break;
        case 3:
          a.value = INFINITY;
          break;
        case 4:
          a.value = 1e15;
          break;
        case 5:
          a.value = 1e-7;
          break;
        case 6:
          a.value = spend;
          break;
        case 7:
          a.value = spend - 1e-6;
          break;
        case 8:
          a.value = spend + 1e-6;
          break;
        default:
          a.value = (std::isfinite(current) ? current : 10.0) * std::uniform_real_distribution<double>(0, 3)(rng_);
      }
      a.reason = "adversary";
      actions->push_back(a);
    }
  }

 private:
  std::mt19937_64 rng_;
};
const Registration kAdversary({.name = "test_adversary",
                               .kind = ComponentKind::kController,
                               .description = "test: asks for anything",
                               .params = {NumberParam("seed", 1, "its own draws", 0, 1e15)},
                               .campaign_scoped = false,
                               .origin = "C++",
                               .make_bidder = nullptr,
                               .make_controller = [](const BuildContext& ctx) -> std::unique_ptr<Controller> {
                                 return std::make_unique<Adversary>(ctx);
                               }});

struct Components {
  std::vector<std::string> bidders, campaign_controllers;
};

// Every registered C++ bidder and campaign controller (budget_reallocation,
// the one scenario-wide controller, is added by the generator), plus the
// adversarial bidder of ledger_test.cc.
Components Registered() {
  Components out;
  for (const auto& info : Registry::Global().List()) {
    if (info->origin != "C++" || info->name.rfind("test_", 0) == 0) continue;
    if (info->kind == ComponentKind::kBidder) out.bidders.push_back(info->name);
    if (info->kind == ComponentKind::kController && info->campaign_scoped)
      out.campaign_controllers.push_back(info->name);
  }
  out.bidders.push_back("test_adversarial");
  return out;
}

// A budget from one micro to large.
double RandomBudget(std::mt19937_64& rng) {
  static const double kScales[] = {1e-6, 3e-6, 0.001, 0.05, 0.5, 2, 5, 10, 30, 1e4};
  return kScales[rng() % 10] * std::uniform_real_distribution<double>(1, 3)(rng);
}

struct Generated {
  std::string text;
  bool pool = false;  // budget_reallocation is the only controller that moves budgets
};

Generated RandomScenario(std::mt19937_64& rng, int index, const Components& comp) {
  auto unif = [&rng](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
  auto pick = [&rng](const std::vector<std::string>& xs) { return xs[rng() % xs.size()]; };
  Generated g;
  g.pool = rng() % 3 == 0;
  std::ostringstream os;
  os << "name: budgets" << index << "\nseed: " << rng() % 1000000 << "\nduration: " << pick({"1d", "30h", "2d"})
     << "\nstart: '2026-03-0" << 1 + rng() % 7 << "T" << pick({"00", "07", "21"})
     << ":00:00'\nbucket: 1h\ncontrol_cycle: " << pick({"15m", "30m", "1h"}) << "\nchannels:\n";
  const int nch = 1 + static_cast<int>(rng() % 3);
  for (int c = 0; c < nch; ++c) {
    const std::string auction = pick({"second_price", "first_price", "gsp"});
    os << "  - name: ch" << c << "\n    auction: " << (auction == "gsp" ? "{type: gsp, slots: 3}" : auction)
       << "\n    billing: " << pick({"impression", "click"}) << "\n    floor: " << unif(0, 0.005)
       << "\n    traffic: {per_hour: " << unif(300, 3000) << "}\n    competition: {competitors: " << 1 + rng() % 6
       << ", median: " << unif(0.001, 0.02) << ", sigma: " << unif(0.1, 1.0) << "}\n";
  }
  os << "segments:\n";
  for (int s = 0; s < 2; ++s)
    os << "  - {name: s" << s << ", users: 300, ctr: " << unif(0.01, 0.2) << ", cvr: " << unif(0.02, 0.3)
       << ", conversion_value: " << unif(1, 50) << ", conversion_delay: {distribution: exponential, mean: 1h}}\n";
  // A pool gets room to move (raises allowed, big steps) and budgets that bind.
  os << "guardrails: {max_bid: " << pick({"1", "1e9"}) << ", max_change: " << pick({"0.5", "0.9", "2"})
     << ", review_threshold: " << pick({"1", "3"})
     << ", max_budget_raise: " << (g.pool ? pick({"2", "5"}) : pick({"1", "1", "2", "5"}))
     << ", review_budget_raise: " << pick({"2", "20"}) << "}\n";
  if (rng() % 2) {
    os << "account_budget: {";
    const int kind = static_cast<int>(rng() % 3);
    if (kind != 1) os << "daily: " << RandomBudget(rng);
    if (kind == 2) os << ", ";
    if (kind != 0) os << "total: " << RandomBudget(rng);
    os << "}\n";
  }
  std::vector<std::string> wide;  // scenario-wide controllers
  if (g.pool || rng() % 4 == 0)
    wide.push_back("{type: budget_reallocation, params: {method: " + pick({"rule", "thompson", "marginal"}) +
                   ", goal: " + pick({"cpa", "roas"}) + ", interval_hours: " + pick({"0.25", "1", "3"}) +
                   ", min_spend: 0, min_points: 1, draws: 50}}");
  if (!g.pool) wide.push_back("{type: test_adversary, params: {seed: " + std::to_string(rng() % 1000000) + "}}");
  if (!wide.empty()) {
    os << "controllers:\n";
    for (const auto& w : wide) os << "  - " << w << "\n";
  }
  os << "campaigns:\n";
  const int ncamp = 1 + static_cast<int>(rng() % 4);
  for (int c = 0; c < ncamp; ++c) {
    os << "  - name: k" << c << "\n    creatives: [a, b" << (rng() % 2 ? ", c" : "")
       << "]\n    bid: " << unif(0.001, 0.05) << "\n    bidder: " << pick(comp.bidders) << "\n    budget: {";
    // 0: daily, 1: daily and total, 2: none, 3: total; a pool needs daily budgets.
    const int kind = static_cast<int>(rng() % (g.pool ? 2 : 4));
    if (kind <= 1) os << "daily: " << (g.pool ? unif(0.5, 30) : RandomBudget(rng));
    if (kind == 1) os << ", ";
    if (kind == 1 || kind == 3) os << "total: " << RandomBudget(rng);
    os << "}\n";
    if (rng() % 2) os << "    goal: {" << (rng() % 2 ? "cpa: " : "roas: ") << unif(0.5, 20) << "}\n";
    std::vector<std::string> ctl;
    for (int k = static_cast<int>(rng() % 3); k > 0; --k) {
      const std::string name = pick(comp.campaign_controllers);
      if (g.pool && name == "rule") continue;  // rule moves budgets too
      if (std::find(ctl.begin(), ctl.end(), name) == ctl.end()) ctl.push_back(name);
    }
    if (!ctl.empty()) {
      os << "    controllers: [";
      for (size_t k = 0; k < ctl.size(); ++k) os << (k ? ", " : "") << ctl[k];
      os << "]\n";
    }
  }
  g.text = os.str();
  return g;
}

// Counts of rows where a cap was (almost) reached: the property means
// something only if the caps bind often.
struct Binding {
  int campaign_days = 0, campaign_totals = 0, account_days = 0, account_totals = 0, pool_days = 0;
};

void CheckRun(const Scenario& sc, const Results& r, bool pool, Binding* b) {
  const auto& day = Col<int64_t>(r, "daily", "day_start");
  const auto& camp = Col<int64_t>(r, "daily", "campaign");
  const auto& daily_budget = Col<double>(r, "daily", "daily_budget");
  const auto& total_budget = Col<double>(r, "daily", "total_budget");
  const auto& spend = Col<double>(r, "daily", "spend");
  const auto& spend_total = Col<double>(r, "daily", "spend_total");
  std::map<int64_t, Micros> account_day, pool_day;
  Micros account_total = 0;
  Micros pool_budget = 0;
  for (const CampaignSpec& c : sc.campaigns)
    if (std::isfinite(c.daily_budget)) pool_budget += Ledger::FromUnits(c.daily_budget);
  for (size_t i = 0; i < day.size(); ++i) {
    const CampaignSpec& c = sc.campaigns[static_cast<size_t>(camp[i])];
    const Micros s = ToMicros(spend[i]), st = ToMicros(spend_total[i]);
    // The campaign's caps: what the person set, or the ceiling the guardrails allow if higher.
    if (std::isfinite(c.daily_budget)) {
      const Micros cap = Ledger::FromUnits(std::max(c.daily_budget, BudgetCeiling(c, true)));
      EXPECT_LE(s, cap) << "campaign " << c.name << " day " << day[i] / kMicrosPerDay;
      EXPECT_LE(s, ToMicros(daily_budget[i])) << "spend above the daily budget in force at the day's end";
      b->campaign_days += s > 0 && s >= cap * 99 / 100;
    }
    if (std::isfinite(c.total_budget)) {
      const Micros cap = Ledger::FromUnits(std::max(c.total_budget, BudgetCeiling(c, false)));
      EXPECT_LE(st, cap) << "campaign " << c.name << " total";
      EXPECT_LE(st, ToMicros(total_budget[i]));
      b->campaign_totals += st > 0 && st >= cap * 99 / 100;
    }
    account_day[day[i]] += s;
    if (std::isfinite(c.daily_budget)) pool_day[day[i]] += s;
    if (day[i] == day.back()) account_total += st;
  }
  if (std::isfinite(sc.account_daily_budget)) {
    const Micros cap = Ledger::FromUnits(sc.account_daily_budget);
    for (const auto& [d, s] : account_day) {
      EXPECT_LE(s, cap) << "account, day " << d / kMicrosPerDay;
      b->account_days += s > 0 && s >= cap * 99 / 100;
    }
  }
  if (std::isfinite(sc.account_total_budget)) {
    const Micros cap = Ledger::FromUnits(sc.account_total_budget);
    EXPECT_LE(account_total, cap) << "account total";
    b->account_totals += account_total > 0 && account_total >= cap * 99 / 100;
  }
  if (pool) {
    for (const auto& [d, s] : pool_day) {
      EXPECT_LE(s, pool_budget) << "pool, day " << d / kMicrosPerDay;
      b->pool_days += s > 0 && s >= pool_budget * 99 / 100;
    }
  }
}

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

TEST(BudgetProperty, NoControllerOrBidderPassesACampaignAccountOrPoolCap) {
  const int runs = EnvInt("ADSIM_BUDGET_PROPERTY_RUNS", 200);
  const int seed = EnvInt("ADSIM_BUDGET_PROPERTY_SEED", 20261206);
  const Components comp = Registered();
  ASSERT_FALSE(comp.bidders.empty());
  ASSERT_FALSE(comp.campaign_controllers.empty());
  std::mt19937_64 rng(static_cast<uint64_t>(seed));
  Binding b;
  int pools = 0, done = 0;
  for (int i = 0; i < runs; ++i) {
    done = i + 1;
    const Generated g = RandomScenario(rng, i, comp);
    SCOPED_TRACE(g.text);
    const Scenario sc = ParseScenario(g.text, "random.yaml");
    Results r;
    ASSERT_NO_THROW(r = RunScenario(sc));  // an InvariantError would be an overspend caught by a ledger
    CheckRun(sc, r, g.pool, &b);
    pools += g.pool;
    if (HasFailure()) break;  // one scenario is enough to look at
  }
  std::printf(
      "%d scenarios (%d pools): at the cap %d campaign days, %d campaign totals, %d account days, "
      "%d account totals, %d pool days\n",
      done, pools, b.campaign_days, b.campaign_totals, b.account_days, b.account_totals, b.pool_days);
  // Every kind of cap binds in a good share of the runs.
  // (200 scenarios of the default seed: 31 campaign days, 26 campaign totals,
  // 27 account days, 13 account totals, 25 pool days at the cap.)
  EXPECT_GT(b.campaign_days, runs / 10);
  EXPECT_GT(b.campaign_totals, runs / 20);
  EXPECT_GT(b.account_days, runs / 20);
  EXPECT_GT(b.account_totals, runs / 40);
  EXPECT_GT(b.pool_days, runs / 40);
}

}  // namespace
}  // namespace adsim
