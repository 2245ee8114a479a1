// budget_reallocation: moves daily budget between campaigns towards the ones
// that convert more cheaply, keeping the total of their daily budgets fixed
// and a floor per campaign so nothing starves while it is still being learned.
// Every `interval_hours` (at a control cycle), over the campaigns with a
// finite daily budget, from each campaign's own evidence: its totals since
// the start (`half_life_hours` 0, the default), or, with a half-life h > 0,
// its spend, reported conversions and value discounted by 2^(-age / h), so
// that a shock which has ended stops counting against a campaign (evidence
// one half-life old weighs half, see Recent below; rule and thompson only):
//   efficiency e_i = conversions_i / spend_i        (goal "cpa")
//                  = conversion value_i / spend_i   (goal "roas");
//   method "rule":     shares proportional to e_i^power;
//   method "thompson": shares = the probability that each campaign is the
//                      most efficient, estimated from `draws` joint draws of
//                      Gamma(conversions_i + 1 + prior_spend * pooled rate,
//                      spend_i + prior_spend) posteriors of conversions per
//                      unit spend, shrunk towards the campaigns' pooled rate
//                      (cpa only;
//                      roas uses the same posterior scaled by the observed
//                      value per conversion);
//   method "marginal": shares that equalise each campaign's marginal return of
//                      budget, d value / d budget, from a concave response
//                      V_i(B) = a_i * B^b_i (value per day at daily budget B)
//                      fitted per campaign over its per-interval history;
//                      see MarginalAllocation below;
// then each share is raised to at least `floor_share` (renormalised) and the
// targets are share x pool. Each campaign moves towards its target by at most
// its own max_change (and review_threshold), never above its budget ceiling
// (guardrails: by default the daily budget the scenario set) and never below
// what it has already spent today: only unspent budget moves. Moves under 1%
// are skipped, and the larger of the total increase and the total decrease is
// scaled down to the smaller, in integer micros as the ledger holds them, so
// the total of the daily budgets never grows: the pool's spend never exceeds
// the pool, to the micro.
// With `attribution` other than last_click (scenarios with journeys only),
// a campaign's conversions and value are not the ones its platform reports
// but those an attribution source gives it: an attribution model over the
// paths observed so far (core/attribution/, docs/attribution.md), `holdout`,
// the incrementality measured by the channels' user holdouts, or
// `holdout_calibrated`, those holdouts shrunk toward a path model by their
// noise (core/attribution/holdout_calibrated.cc); each channel's
// credit goes to the pooled campaigns in proportion to their impressions on
// that channel (docs/strategies/controllers/budget_reallocation.md).
#include <algorithm>
#include <boost/math/tools/roots.hpp>
#include <boost/random/gamma_distribution.hpp>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/attribution/models.h"
#include "core/error.h"
#include "core/guardrails.h"
#include "core/ledger.h"
#include "core/random.h"
#include "core/registry.h"
#include "strategies/lib/traffic_curve.h"

namespace adsim::controllers {
namespace {

// One campaign's observed response of value to its daily budget, for the
// "marginal" method. Each reallocation interval adds one point
//   x = log(daily budget during the interval),
//   y = log(value reported in the interval / expected traffic share of the day in it),
// the interval's value scaled to a day's worth so intervals at different
// times of day are comparable. Intervals without value are skipped (log 0).
// The fit is least squares of y = log a + b x with a ridge prior pulling b
// towards b0 with weight w (in units of the centred sum of squares of x):
//   b = (Sxy + w b0) / (Sxx + w),  log a = mean(y) - b mean(x),
// b clamped to [0, b_max] so the response stays concave (b_max < 1) and the
// equalisation has an interior solution.
struct ResponseFit {
  std::vector<double> x, y;
  double log_a = 0, b = 0;

  void Fit(double b0, double w, double b_max) {
    const double n = static_cast<double>(x.size());
    double mx = 0, my = 0;
    for (size_t k = 0; k < x.size(); ++k) mx += x[k] / n, my += y[k] / n;
    double sxx = 0, sxy = 0;
    for (size_t k = 0; k < x.size(); ++k) sxx += (x[k] - mx) * (x[k] - mx), sxy += (x[k] - mx) * (y[k] - my);
    b = std::clamp((sxy + w * b0) / (sxx + w), 0.0, b_max);
    log_a = my - b * mx;
  }
  // d V / d B at budget B: a b B^(b-1).
  double Marginal(double budget) const { return b * std::exp(log_a + (b - 1.0) * std::log(budget)); }
};

// Budgets B_i in [lo, pool] with sum B_i = pool that equalise the marginal
// returns a_i b_i B_i^(b_i - 1) = lambda where they can: for b_i in (0, 1),
// B_i(lambda) = (a_i b_i / lambda)^(1 / (1 - b_i)), clamped; a flat response
// (b_i = 0) gets the floor. The sum decreases in lambda: Boost.Math's bisection on
// log lambda.
std::vector<double> MarginalAllocation(const std::vector<ResponseFit>& fits, double pool, double lo) {
  const int n = static_cast<int>(fits.size());
  std::vector<double> out(n, lo);
  auto fill = [&](double log_lambda) {
    double sum = 0;
    for (int i = 0; i < n; ++i) {
      const ResponseFit& f = fits[i];
      out[i] = f.b <= 1e-9 ? lo : std::clamp(std::exp((f.log_a + std::log(f.b) - log_lambda) / (1.0 - f.b)), lo, pool);
      sum += out[i];
    }
    return sum;
  };
  // The root in log lambda of fill(log lambda) = pool, by Boost.Math's
  // bisection down to adjacent doubles; the upper end of the final bracket
  // gives sum <= pool.
  constexpr double kLowest = -700, kHighest = 700;
  if (fill(kLowest) <= pool) return out;  // everyone at pool or floor: nothing to balance
  double log_lambda = kHighest;
  if (fill(kHighest) < pool) {  // else every campaign is at its floor at any lambda: keep that
    std::uintmax_t iterations = 200;
    log_lambda = boost::math::tools::bisect([&](double l) { return fill(l) - pool; }, kLowest, kHighest,
                                            [](double a, double b) { return a == b; }, iterations)
                     .second;
  }
  const double sum = fill(log_lambda);
  // log_lambda gives sum <= pool: hand what is left to the campaigns not at a bound, in proportion.
  double free = 0;
  for (int i = 0; i < n; ++i)
    if (out[i] > lo && out[i] < pool) free += out[i];
  for (int i = 0; i < n; ++i)
    if (free > 0 && out[i] > lo && out[i] < pool) out[i] += (pool - sum) * out[i] / free;
  return out;
}

// Balances budget moves in integer micros. `current` are the budgets as the
// ledger holds them, `wanted` the budgets each campaign should move to (already
// within its own limits). The total raise and the total cut are both scaled
// down to the smaller of the two (rounding each move down), then the side that
// is still larger gives up the few micros of difference, so the returned
// budgets sum exactly to the sum of `current`, and each moves from its current
// budget in the direction, and by at most the amount, it wanted.
std::vector<Micros> BalanceMoves(const std::vector<Micros>& current, const std::vector<Micros>& wanted) {
  const size_t n = current.size();
  Micros raise = 0, cut = 0;
  for (size_t i = 0; i < n; ++i) (wanted[i] > current[i] ? raise : cut) += std::abs(wanted[i] - current[i]);
  const Micros moved = std::min(raise, cut);
  std::vector<Micros> step(n, 0);  // signed move of each campaign
  Micros raised = 0, freed = 0;
  for (size_t i = 0; i < n; ++i) {
    const Micros want = wanted[i] - current[i];
    if (want == 0) continue;
    const Micros side = want > 0 ? raise : cut;
    // |want| x moved / side, rounded down, in 128 bits: the product can pass 2^63.
    const Micros amount = static_cast<Micros>(static_cast<__int128>(std::abs(want)) * moved / side);
    step[i] = want > 0 ? amount : -amount;
    (want > 0 ? raised : freed) += amount;
  }
  // Trim the larger side to the smaller so the sum is conserved exactly.
  Micros excess = raised - freed;
  for (size_t i = 0; i < n && excess != 0; ++i) {
    if (excess > 0 && step[i] > 0) {
      const Micros t = std::min(step[i], excess);
      step[i] -= t;
      excess -= t;
    } else if (excess < 0 && step[i] < 0) {
      const Micros t = std::min(-step[i], -excess);
      step[i] += t;
      excess += t;
    }
  }
  std::vector<Micros> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = current[i] + step[i];
  return out;
}

// One campaign's evidence with exponential forgetting: each control cycle
// multiplies what was there by 2^(-elapsed / half-life) and adds what arrived
// since the last cycle (spend, and the conversions and value reported in it),
// so a unit of evidence observed `age` ago weighs 2^(-age / half-life), to
// within a control cycle. With a steady flow r per hour the sums approach
// r x half-life / ln 2: the "effective window" is 1.44 half-lives.
struct RecentEvidence {
  double spend = 0, conversions = 0, value = 0;
  double total_spend = 0, total_conversions = 0, total_value = 0;  // at the last update
};

class BudgetReallocation final : public Controller {
 public:
  explicit BudgetReallocation(const BuildContext& ctx)
      : scenario_(*ctx.scenario),
        thompson_(ctx.params.String("method") == "thompson"),
        marginal_(ctx.params.String("method") == "marginal"),
        roas_(ctx.params.String("goal") == "roas"),
        interval_(static_cast<SimTime>(ctx.params.Number("interval_hours") * kMicrosPerHour)),
        floor_(ctx.params.Number("floor_share")),
        power_(ctx.params.Number("power")),
        prior_spend_(ctx.params.Number("prior_spend")),
        min_spend_(ctx.params.Number("min_spend")),
        draws_(static_cast<int>(ctx.params.Number("draws"))),
        b0_(ctx.params.Number("elasticity_prior")),
        b_weight_(ctx.params.Number("elasticity_prior_weight")),
        b_max_(ctx.params.Number("max_elasticity")),
        min_points_(static_cast<int>(ctx.params.Number("min_points"))),
        half_life_(static_cast<SimTime>(ctx.params.Number("half_life_hours") * kMicrosPerHour)),
        attribution_(ctx.params.String("attribution")),
        journeys_(ctx.journeys),
        stream_(ctx.stream_seed) {
    CheckAttribution(ctx);
    // The marginal method fits its response on per-interval points, not on
    // totals: a half-life would be ignored there, so say so instead.
    if (marginal_ && half_life_ > 0)
      throw ConfigError({{ctx.scenario->source_name, ctx.where + ".params.half_life_hours", 0,
                          "0 with method marginal (the half-life applies to rule and thompson)",
                          std::to_string(ctx.params.Number("half_life_hours"))}});
  }

  void OnCycle(const Snapshot& snap, int, std::vector<Action>* actions) override {
    if (half_life_ > 0) Forget(snap);
    if (snap.time < next_) return;
    next_ = snap.time + interval_;
    if (marginal_ && !Observe(snap)) return;
    std::vector<int> ids;
    double pool = 0;
    for (size_t c = 0; c < snap.campaigns.size(); ++c) {
      const CampaignState& st = snap.campaigns[c];
      if (!std::isfinite(st.daily_budget) || st.paused) continue;
      ids.push_back(static_cast<int>(c));
      pool += st.daily_budget;
    }
    const int n = static_cast<int>(ids.size());
    if (n < 2 || pool <= 0) return;
    // The evidence each campaign is judged on: its totals since the start,
    // or with a half-life its discounted sums (min_spend still counts the
    // totals: it asks whether a campaign has been seen at all).
    std::vector<RecentEvidence> tot(n);
    for (int i = 0; i < n; ++i)
      if (snap.CampaignTotal(snap.total, ids[i]).spend < min_spend_) return;  // not enough evidence anywhere yet
    if (attribution_ != "last_click") Attribute(snap, ids, &tot);
    for (int i = 0; i < n && attribution_ == "last_click"; ++i) {
      const ObservedStats total = snap.CampaignTotal(snap.total, ids[i]);
      if (half_life_ > 0 && recent_[ids[i]].spend > 0) {
        tot[i] = recent_[ids[i]];
      } else {
        tot[i].spend = total.spend;
        tot[i].conversions = static_cast<double>(total.conversions);
        tot[i].value = total.conversion_value;
      }
    }
    std::vector<double> share(n, 0.0);
    if (marginal_) {
      std::vector<ResponseFit> fits(n);
      for (int i = 0; i < n; ++i) {
        fits[i] = fits_[ids[i]];
        if (static_cast<int>(fits[i].x.size()) < min_points_) return;  // not enough points yet
        fits[i].Fit(b0_, b_weight_, b_max_);
      }
      const std::vector<double> target = MarginalAllocation(fits, pool, std::min(floor_, 1.0 / n) * pool);
      for (int i = 0; i < n; ++i) share[i] = target[i] / pool;
      reason_.clear();
      for (int i = 0; i < n; ++i)
        reason_ += (i ? ", " : "") + snap.campaigns[ids[i]].name + ": b=" + std::to_string(fits[i].b) +
                   " marginal=" + std::to_string(fits[i].Marginal(snap.campaigns[ids[i]].daily_budget));
    } else if (thompson_) {
      // The prior is worth prior_spend of spend at the pooled rate of the
      // campaigns judged (conversions per unit spend over all of them), so a
      // campaign with little recent spend is shrunk towards its peers, not
      // towards zero: a prior of one conversion per prior_spend would rank a
      // campaign starved to its floor below the others whatever its own rate,
      // and keep it there (the trap ReallocationHalfLife.Thompson... shows).
      double pooled_conversions = 0, pooled_spend = 0;
      for (int i = 0; i < n; ++i) {
        pooled_conversions += tot[i].conversions;
        pooled_spend += tot[i].spend;
      }
      const double prior_conversions = pooled_spend > 0 ? prior_spend_ * pooled_conversions / pooled_spend : 0.0;
      for (int d = 0; d < draws_; ++d) {
        int best = 0;
        double best_v = -1;
        for (int i = 0; i < n; ++i) {
          boost::random::gamma_distribution<double> g(tot[i].conversions + prior_conversions + 1.0, 1.0);
          double v = g(stream_.engine()) / (tot[i].spend + prior_spend_);  // conversions per unit spend
          if (roas_ && tot[i].conversions > 0) v *= tot[i].value / tot[i].conversions;
          if (v > best_v) {
            best_v = v;
            best = i;
          }
        }
        share[best] += 1.0 / draws_;
      }
    } else {
      double sum = 0;
      for (int i = 0; i < n; ++i) {
        const double e = (roas_ ? tot[i].value : tot[i].conversions) / tot[i].spend;
        share[i] = std::pow(std::max(e, 1e-12), power_);
        sum += share[i];
      }
      for (auto& s : share) s /= sum;
    }
    // Floors: every campaign keeps at least floor_share of the pool.
    const double fl = std::min(floor_, 1.0 / n);  // n floors cannot exceed the pool
    double above = 0;
    const double spare = 1.0 - fl * n;
    for (auto& s : share) above += std::max(0.0, s - fl);
    for (auto& s : share) s = above > 0 ? fl + spare * std::max(0.0, s - fl) / above : 1.0 / n;
    // Move towards the targets within each campaign's limits, skip moves
    // under 1% (dead band), then balance in micros (BalanceMoves): the pool
    // is conserved or loses a few micros, it never grows, and the guardrails
    // need not clamp or hold anything.
    std::vector<Micros> current(n), wanted(n);
    for (int i = 0; i < n; ++i) {
      const CampaignState& st = snap.campaigns[ids[i]];
      const CampaignSpec& spec = scenario_.campaigns[ids[i]];
      const double cur = st.daily_budget;
      const double step = std::min(spec.guardrails.max_change, spec.guardrails.review_threshold);
      // Raise: within the per-cycle step, the ceiling and the review level.
      const double hi =
          std::max(cur, std::min({cur * (1 + step), BudgetCeiling(spec, true), BudgetReviewLevel(spec, true)}));
      // Cut: within the per-cycle step, and never below today's spend.
      const double lo = std::min(cur, std::max(cur * (1 - step), st.spend_today));
      double next = std::clamp(share[i] * pool, lo, hi);
      if (std::fabs(next - cur) <= 0.01 * cur) next = cur;
      current[i] = Ledger::FromUnits(cur);
      const Micros spent = std::llround(st.spend_today * kMicrosPerUnit);
      wanted[i] = next > cur ? std::max(current[i], Ledger::FromUnits(next))
                             : std::min(current[i], std::max(Ledger::FromUnits(next), spent));
    }
    const std::vector<Micros> moved = BalanceMoves(current, wanted);
    for (int i = 0; i < n; ++i) {
      if (moved[i] == current[i]) continue;
      Action a;
      a.kind = ActionKind::kSetDailyBudget;
      a.campaign = ids[i];
      a.value = MicrosToUnits(moved[i]);
      a.reason = "target share " + std::to_string(share[i]) + " of pool " + std::to_string(pool);
      if (marginal_) a.reason += " (" + reason_ + ")";
      if (attribution_ != "last_click")
        a.reason += " (" + attribution_ + ": " + std::to_string(tot[i].conversions) + " conversions)";
      // The campaign's share of the pooled daily budgets now, and the share
      // the allocation aims at (the move is limited by the guardrails' step).
      a.metric = "budget_share";
      a.observed = snap.campaigns[ids[i]].daily_budget / pool;
      a.threshold = share[i];
      actions->push_back(a);
    }
  }

 private:
  // A source other than last_click reads journeys' paths: refuse it without
  // journeys, with the marginal method or a half-life (both work on the
  // platform's reported flow), and `holdout` unless every channel of the
  // campaigns has a holdout.
  void CheckAttribution(const BuildContext& ctx) const {
    if (attribution_ == "last_click") return;
    const std::string field = ctx.where + ".params.attribution";
    auto fail = [&](const std::string& expected) {
      throw ConfigError({{ctx.scenario->source_name, field, 0, expected, "'" + attribution_ + "'"}});
    };
    if (!ctx.scenario->journeys)
      fail("last_click in a scenario without journeys (the other sources read the users' paths; docs/journeys.md)");
    if (marginal_) fail("last_click with method marginal (an attribution source works with rule and thompson)");
    if (half_life_ > 0)
      fail("last_click with half_life_hours > 0 (an attribution source judges totals since the start)");
    if (attribution_ != "holdout" && attribution_ != "holdout_calibrated") return;
    const std::vector<double>& holdout = ctx.scenario->journey_holdout;
    for (const CampaignSpec& campaign : ctx.scenario->campaigns) {
      std::vector<int> channels = campaign.channels;
      if (channels.empty())
        for (size_t c = 0; c < ctx.scenario->channels.size(); ++c) channels.push_back(static_cast<int>(c));
      for (const int c : channels)
        if (static_cast<size_t>(c) >= holdout.size() || !(holdout[c] > 0))
          fail("a source other than holdout and holdout_calibrated, or journeys.holdout on channel '" +
               ctx.scenario->channels[c].name + "' (campaign '" + campaign.name + "' runs there)");
    }
  }

  // The conversions and value the attribution source gives each pooled
  // campaign (`ids`): the source's credit per channel, over the paths and
  // holdouts observed so far, split between the pooled campaigns by their
  // impressions on the channel. A negative holdout estimate counts as 0.
  void Attribute(const Snapshot& snap, const std::vector<int>& ids, std::vector<RecentEvidence>* tot) const {
    const JourneyObservations* observed = journeys_ ? *journeys_ : nullptr;
    if (!observed) throw InvariantError("budget_reallocation: attribution '" + attribution_ + "' without journeys");
    const attribution::PathData data = observed->PathsSoFar(snap.time);
    const attribution::ModelCredit credit = attribution::Attribute(data, attribution_);
    const int n = static_cast<int>(ids.size());
    for (int i = 0; i < n; ++i) {
      const ObservedStats total = snap.CampaignTotal(snap.total, ids[i]);
      (*tot)[i] = RecentEvidence{};
      (*tot)[i].spend = total.spend;
    }
    for (size_t c = 0; c < data.channel_names.size(); ++c) {
      int channel = -1;
      for (int k = 0; k < snap.num_channels; ++k)
        if (snap.channel_names[k] == data.channel_names[c]) channel = k;
      if (channel < 0) continue;
      std::vector<double> impressions(n, 0.0);
      double all = 0;
      for (int i = 0; i < n; ++i) {
        for (int segment = 0; segment < snap.num_segments; ++segment)
          for (int creative = 0; creative < snap.num_creatives[ids[i]]; ++creative)
            impressions[i] +=
                static_cast<double>(snap.total[snap.Cell(ids[i], channel, segment, creative)].impressions);
        all += impressions[i];
      }
      if (all <= 0) continue;
      for (int i = 0; i < n; ++i) {
        (*tot)[i].conversions += std::max(0.0, credit.conversions[c]) * impressions[i] / all;
        (*tot)[i].value += std::max(0.0, credit.value[c]) * impressions[i] / all;
      }
    }
  }

  // Half-life: discounts every campaign's evidence by the time since the last
  // cycle and adds what arrived in it (RecentEvidence).
  void Forget(const Snapshot& snap) {
    if (recent_.empty()) recent_.resize(snap.campaigns.size());
    const double decay =
        last_forget_ < 0 ? 1.0
                         : std::exp2(-static_cast<double>(snap.time - last_forget_) / static_cast<double>(half_life_));
    last_forget_ = snap.time;
    for (size_t c = 0; c < recent_.size(); ++c) {
      const ObservedStats t = snap.CampaignTotal(snap.total, static_cast<int>(c));
      RecentEvidence& e = recent_[c];
      const double conversions = static_cast<double>(t.conversions);
      e.spend = e.spend * decay + (t.spend - e.total_spend);
      e.conversions = e.conversions * decay + (conversions - e.total_conversions);
      e.value = e.value * decay + (t.conversion_value - e.total_value);
      e.total_spend = t.spend;
      e.total_conversions = conversions;
      e.total_value = t.conversion_value;
    }
  }

  // Marginal method: adds one response point per campaign for the interval
  // since the last call: its daily budget now (the one in force over the
  // interval, set at the last reallocation) and its value reported since,
  // scaled to a day. Returns false on the first call, which only sets the
  // baseline.
  bool Observe(const Snapshot& snap) {
    const size_t nc = snap.campaigns.size();
    if (fits_.empty()) {
      fits_.resize(nc);
      last_value_.assign(nc, 0.0);
    }
    const bool first = last_time_ < 0;
    for (size_t c = 0; c < nc; ++c) {
      const ObservedStats t = snap.CampaignTotal(snap.total, static_cast<int>(c));
      const double value = roas_ ? t.conversion_value : static_cast<double>(t.conversions);
      const double budget = snap.campaigns[c].daily_budget;
      if (!first && std::isfinite(budget) && budget > 0 && !snap.campaigns[c].paused) {
        // Expected share of a day's traffic in [last_time_, now), over whole days and the rest.
        const double from = HourOfDay(scenario_, last_time_), to = HourOfDay(scenario_, snap.time);
        const double days = std::floor(static_cast<double>(snap.time - last_time_) / kMicrosPerDay);
        double share = days + ElapsedTrafficShare(scenario_, static_cast<int>(c), to) -
                       ElapsedTrafficShare(scenario_, static_cast<int>(c), from);
        if (to < from) share += 1.0;  // the interval crosses midnight
        const double gained = value - last_value_[c];
        if (gained > 0 && share > 1e-6) {
          fits_[c].x.push_back(std::log(budget));
          fits_[c].y.push_back(std::log(gained / share));
        }
      }
      last_value_[c] = value;
    }
    last_time_ = snap.time;
    return !first;
  }

  const PublicScenario& scenario_;
  bool thompson_, marginal_, roas_;
  SimTime interval_;
  double floor_, power_, prior_spend_, min_spend_;
  int draws_;
  double b0_, b_weight_, b_max_;
  int min_points_;
  SimTime half_life_;  // 0: totals since the start
  std::string attribution_;
  const JourneyObservations* const* journeys_;
  Stream stream_;
  std::vector<RecentEvidence> recent_;  // half-life: per campaign of the scenario
  SimTime last_forget_ = -1;
  std::vector<ResponseFit> fits_;  // marginal: per campaign of the scenario
  std::vector<double> last_value_;
  SimTime last_time_ = -1;
  std::string reason_;
  SimTime next_ = 0;
};

ADSIM_REGISTER_SCENARIO_CONTROLLER(
    BudgetReallocation, "budget_reallocation",
    "Moves daily budget between campaigns towards the most efficient (CPA or ROAS), or to equal marginal "
    "returns, with floors.",
    StringParam("method", "rule",
                "rule (shares by efficiency^power), thompson (P(best)) or marginal (equal marginal return "
                "of budget)",
                {"rule", "thompson", "marginal"}),
    StringParam("goal", "cpa", "efficiency: conversions per spend (cpa) or value per spend (roas)", {"cpa", "roas"}),
    NumberParam("interval_hours", 6, "time between reallocations", 0.01, 10000),
    NumberParam("floor_share", 0.1, "smallest share of the pool a campaign keeps", 0, 0.5),
    NumberParam("power", 1.0, "rule: shares proportional to efficiency^power", 0, 20),
    NumberParam("prior_spend", 10, "thompson: prior spend in the Gamma posterior", 0, 1e12),
    NumberParam("min_spend", 50, "spend every campaign needs before the first reallocation", 0, 1e15),
    NumberParam("draws", 2000, "thompson: posterior draws per reallocation", 10, 1e6),
    NumberParam("elasticity_prior", 0.5, "marginal: prior exponent b of the response value = a budget^b", 0, 0.99),
    NumberParam("elasticity_prior_weight", 0.1,
                "marginal: weight of the prior exponent, in units of the sum of squared log-budget "
                "deviations",
                1e-9, 1e9),
    NumberParam("max_elasticity", 0.95, "marginal: largest fitted exponent b (keeps the response concave)", 0.01, 0.99),
    NumberParam("min_points", 4, "marginal: intervals with value every campaign needs before moving", 1, 1e6),
    NumberParam("half_life_hours", 0,
                "rule and thompson: half-life of the evidence (spend, conversions, value) in hours; 0 judges "
                "totals since the start",
                0, 1e6),
    StringParam("attribution", "last_click",
                "whose conversions judge a campaign: last_click (what its platform reports), an attribution model "
                "over the journeys' paths, holdout (the channels' user holdouts) or holdout_calibrated (the "
                "holdouts shrunk toward first touch by their noise); journeys only except last_click",
                {"last_click", "first_touch", "last_touch", "last_non_direct", "linear", "linear_unique", "time_decay",
                 "position_based", "markov1", "markov2", "markov3", "shapley", "holdout", "holdout_calibrated"}));

}  // namespace
}  // namespace adsim::controllers
