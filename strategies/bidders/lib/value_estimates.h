// Per-opportunity value estimates shared by the value bidders (value_linear,
// value_rtb, target_cpa, target_roas, bid_shading) and a pacing curve shared
// with throttled. Everything here reads only what a Snapshot, CampaignState
// or PublicScenario holds: observed counters, never the truth.
//
// Per cell (channel x segment of one campaign, summed over its creatives,
// because a BidRequest does not say which creative will be shown):
//   pCTR = (ctr_alpha + clicks) / (ctr_alpha + ctr_beta + impressions)
//   pCVR = (cvr_alpha + conversions) / (cvr_alpha + cvr_beta + effective_clicks)
//   v    = (conversion_value + k0 * v_campaign) / (conversions + k0)
// where effective_clicks corrects for conversions that have not arrived yet:
// with an exponential delay of mean m (conversion_delay_hours), a click made
// `a` hours ago has reported its conversion with probability 1 - exp(-a / m),
// so the expected reported conversions are pCVR * (clicks - pending) with
//   pending = sum over clicks of exp(-(now - click_time) / m).
// The clicks of each cycle (snapshot.last_cycle) are taken as spread evenly
// over the cycle of length L, so each cycle's cohort adds
//   clicks * (m / L) * (1 - exp(-L / m))
// to `pending`, and every cohort decays by exp(-dt / m) per cycle of length dt
// (the exponential is memoryless): a per-cycle click history folded into one
// number per cell, exact for an exponential delay.
//
// With `estimator: logistic`, pCTR and pCVR instead shrink each cell towards
// the prediction m of an L2-regularised logistic regression over the cells
// (strategies/bidders/lib/logistic_model.h), refitted each cycle on the aggregated counts
// (impressions, clicks) for CTR and (effective clicks, conversions) for CVR,
// with features [1, the segment's public features, one indicator per channel
// after the first]:
//   pCTR = (k_ctr * m_ctr + clicks) / (k_ctr + impressions)
//   pCVR = (k_cvr * m_cvr + conversions) / (k_cvr + effective_clicks)
// i.e. a Beta prior centred on the model's prediction for the cell, whose
// weight k is estimated each cycle from the cells' overdispersion around the
// model (LogisticModel::ShrinkageWeight), at least the Beta prior's weight
// (ctr_alpha + ctr_beta, cvr_alpha + cvr_beta). The regression's own prior is
// centred on the Beta prior mean (intercept) and 0 (other coefficients) with
// precision logistic_l2.
//
// Cold start (docs/strategies/bidders/value_linear.md, "Cold start"):
// with `pooling: hierarchical` (beta estimator) each rate is shrunk up a
// tree campaign -> channel -> (channel, segment) cell, empirical-Bayes:
//   m_campaign = (alpha0 + S) / (alpha0 + beta0 + T)
//   m_channel  = (k_channel * m_campaign + S_channel) / (k_channel + T_channel)
//   rate_cell  = (k_cell * m_channel + s) / (k_cell + n)
// with each level's prior strength k (pseudo-trials) estimated each cycle by
// the method of moments over its siblings (PooledStrength), at least the
// Beta prior's weight alpha0 + beta0 and at most kMaxShrinkage. With
// `explore_bid_share` f > 0, a ready cell bids at least f * base bid while
// the 95 % interval of its value per billing unit, from the cell's own
// evidence, is wide: relative half-width (pCTR and pCVR combined in
// quadrature, each half-width taken relative to the estimate the bid uses)
// above `explore_until_width`.
//
// Creatives (`per_creative_ctr`, target_cpa, target_roas and value_linear):
// a BidRequest says which creative the engine chose before the bid, so on
// impression-billed channels the bid may follow the creative's own click
// rate, shrunk towards its cell's (CreativeFactors); off by default.
//
// Fatigue (`fatigue: exposure`, target_cpa, target_roas and value_linear;
// strategies/bidders/lib/fatigue_model.h, docs/strategies/bidders/fatigue.md):
// the bid for a request also multiplies by the creative's current fatigue
// relative to the mean fatigue of the cell's history, from the campaign's own
// impressions and clicks; off (`none`) by default.
#pragma once

#include <algorithm>
#include <boost/math/distributions/beta.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "core/registry.h"
#include "core/strategy.h"
#include "core/types.h"
#include "strategies/bidders/lib/fatigue_model.h"
#include "strategies/bidders/lib/logistic_model.h"
#include "strategies/lib/estimators.h"
#include "strategies/lib/traffic_curve.h"

namespace adsim::valuation {

// The parameters every value bidder declares, with their defaults.
inline std::vector<ParamSpec> ValueParamSpecs(std::vector<ParamSpec> extra) {
  std::vector<ParamSpec> p = {
      NumberParam("ctr_alpha", 1.0, "Beta prior pseudo-clicks of pCTR", 1e-6, 1e9),
      NumberParam("ctr_beta", 100.0, "Beta prior pseudo-impressions without a click of pCTR", 1e-6, 1e12),
      NumberParam("cvr_alpha", 1.0, "Beta prior pseudo-conversions of pCVR (per click)", 1e-6, 1e9),
      NumberParam("cvr_beta", 20.0, "Beta prior pseudo-clicks without a conversion of pCVR", 1e-6, 1e12),
      NumberParam("value_prior_conversions", 5.0,
                  "weight, in conversions, of the campaign-wide mean conversion value in each cell's mean", 0, 1e9),
      NumberParam("conversion_delay_hours", 0.0,
                  "assumed mean of an exponential conversion delay, to correct pCVR (0 = no correction)", 0, 1e4),
      NumberParam("min_impressions", 2000, "impressions a cell needs before its estimate replaces the base bid", 0,
                  1e12),
      BoolParam("follow_base_bid", true,
                "multiply value bids by base bid / initial base bid, so controllers steering the base bid still act"),
      StringParam("estimator", "beta",
                  "pCTR and pCVR per cell: beta (Beta-Binomial per cell) or logistic (shrunk towards a logistic "
                  "regression on segment features and channel)",
                  {"beta", "logistic"}),
      NumberParam("logistic_l2", 1.0, "logistic: L2 penalty (prior precision) on the coefficients", 1e-9, 1e9),
      StringParam("pooling", "none",
                  "beta: shrink each cell's pCTR and pCVR towards its channel's and the channel's towards the "
                  "campaign's (hierarchical, empirical Bayes), or none (each cell towards the fixed Beta prior)",
                  {"none", "hierarchical"}),
      BoolParam("learn_conversion_delay", false,
                "learn the mean of an exponential conversion delay from the reported conversions' timing "
                "(Bayesian average over a grid from 15 minutes to 11 days); a given conversion_delay_hours wins "
                "over a default true, and giving both with true is an error"),
      NumberParam("explore_bid_share", 1.0,
                  "exploration floor: a cell bids at least this share of the base bid while its estimate's "
                  "interval is wide (0 = no floor)",
                  0, 100),
      BoolParam("per_creative_ctr", false,
                "impression-billed channels: scale each cell's bid by the creative's click rate relative to the "
                "cell's, shrunk towards the cell's (empirical Bayes over the campaign's creatives); false = one bid "
                "per (channel, segment) whatever the creative"),
      StringParam("fatigue", "none",
                  "creative fatigue: exposure (each creative's click rate as 2^(-exposures / half-life), exposures "
                  "from the campaign's own impressions decaying with a recovery time, both fitted to its clicks; "
                  "target_cpa, target_roas and value_linear) or none (one click rate per cell)",
                  {"none", "exposure"}),
      NumberParam("explore_until_width", 0.5,
                  "the floor holds while the relative half-width of the 95% interval of a cell's value per "
                  "billing unit exceeds this",
                  1e-6, 1e6),
  };
  for (auto& e : extra) p.push_back(std::move(e));
  return p;
}

struct CellEstimate {
  double impressions = 0, clicks = 0, conversions = 0, conversion_value = 0;
  double pending_clicks = 0;  // expected clicks whose conversion has not been reported yet
  double ctr = 0, cvr = 0, cvr_naive = 0, value_per_conversion = 0;
  bool ready = false;  // enough evidence to bid on the estimate
  // Relative half-width of the 95 % interval of the value per billing unit
  // from the cell's own evidence (pCTR and pCVR combined in quadrature; pCVR
  // only on click-billed channels), and whether the exploration floor holds.
  double relative_half_width = 0;
  bool exploring = false;
  double EffectiveClicks() const { return std::max(0.0, clicks - pending_clicks); }
  double ValuePerClick() const { return cvr * value_per_conversion; }
  double ValuePerImpression() const { return ctr * cvr * value_per_conversion; }
};

// One campaign's per-(channel, segment) estimates. Update() once per cycle.
class ValueModel {
 public:
  ValueModel(const BuildContext& ctx)
      : scenario_(ctx.scenario),
        campaign_(ctx.campaign),
        ctr_alpha_(ctx.params.Number("ctr_alpha")),
        ctr_beta_(ctx.params.Number("ctr_beta")),
        cvr_alpha_(ctx.params.Number("cvr_alpha")),
        cvr_beta_(ctx.params.Number("cvr_beta")),
        k0_(ctx.params.Number("value_prior_conversions")),
        delay_hours_(ctx.params.Number("conversion_delay_hours")),
        min_impressions_(ctx.params.Number("min_impressions")),
        nc_(static_cast<int>(ctx.scenario->channels.size())),
        ns_(static_cast<int>(ctx.scenario->segments.size())),
        cells_(static_cast<size_t>(nc_ * ns_)),
        logistic_(ctx.params.String("estimator") == "logistic"),
        pooling_(ctx.params.String("pooling") == "hierarchical"),
        explore_share_(ctx.params.Number("explore_bid_share")),
        explore_width_(ctx.params.Number("explore_until_width")),
        per_creative_(ctx.params.Bool("per_creative_ctr")),
        fatigue_(ctx.params.String("fatigue") == "exposure"),
        creative_factors_(per_creative_ || fatigue_),
        click_billed_(ClickBilledChannels(*ctx.scenario)),
        learn_delay_(LearnsDelay(ctx)),
        delay_grid_(learn_delay_ ? DelayGrid() : std::vector<double>{}),
        grid_decay_(delay_grid_.size()),
        grid_cohort_(delay_grid_.size()),
        grid_expected_(delay_grid_.size(), 0.0),
        grid_log_lik_(delay_grid_.size(), 0.0),
        delay_weight_(delay_grid_.size(), delay_grid_.empty() ? 0.0 : 1.0 / delay_grid_.size()),
        grid_pending_(cells_.size() * delay_grid_.size(), 0.0),
        features_(LogisticFeatures(*ctx.scenario)),
        ctr_model_(static_cast<int>(features_.cols()), ctx.params.Number("logistic_l2")),
        cvr_model_(static_cast<int>(features_.cols()), ctx.params.Number("logistic_l2")),
        trials_(features_.rows()),
        successes_(features_.rows()) {
    Eigen::VectorXd w0 = Eigen::VectorXd::Zero(features_.cols());
    w0[0] = estimators::LogisticModel::Logit(ctr_alpha_ / (ctr_alpha_ + ctr_beta_));
    ctr_model_.SetPrior(w0);
    w0[0] = estimators::LogisticModel::Logit(cvr_alpha_ / (cvr_alpha_ + cvr_beta_));
    cvr_model_.SetPrior(w0);
  }

  // Whether the bidder's parameters in the scenario give `name` (rather than
  // leaving it at its default). False when the bidder is built outside a
  // campaign of the scenario.
  static bool Given(const BuildContext& ctx, const std::string& name) {
    if (ctx.scenario == nullptr || ctx.campaign < 0 || ctx.campaign >= static_cast<int>(ctx.scenario->campaigns.size()))
      return false;
    return ctx.scenario->campaigns[static_cast<size_t>(ctx.campaign)].bidder.params.count(name) > 0;
  }

  static std::string FormatNumber(double x) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", x);
    return text;
  }

  // For the value bidders that do not bid per creative (value_rtb,
  // bid_shading): `fatigue: exposure` would be silently ignored, so it fails,
  // naming the field and the bidders that support it.
  static void RejectFatigue(const BuildContext& ctx, const std::string& bidder) {
    if (ctx.params.String("fatigue") == "none") return;
    int line = 0;
    if (ctx.scenario != nullptr && ctx.campaign >= 0 &&
        ctx.campaign < static_cast<int>(ctx.scenario->campaigns.size())) {
      const ComponentSpec& spec = ctx.scenario->campaigns[static_cast<size_t>(ctx.campaign)].bidder;
      const auto it = spec.param_lines.find("fatigue");
      if (it != spec.param_lines.end()) line = it->second;
    }
    throw ConfigError(
        {{ctx.scenario == nullptr ? std::string() : ctx.scenario->source_name, ctx.where + ".params.fatigue", line,
          "none (" + bidder +
              " bids per (channel, segment), not per creative; fatigue: exposure is "
              "supported by target_cpa, target_roas and value_linear)",
          ctx.params.String("fatigue")}});
  }

  // An assumed delay the user gives (conversion_delay_hours, even 0) wins
  // over learn_conversion_delay left at its default: a default must not
  // silently override an explicit value (this matters if the default is
  // true; it is false, docs/cold-start.md "The defaults"). Asking for both
  // explicitly is a contradiction and fails, naming the two fields.
  static bool LearnsDelay(const BuildContext& ctx) {
    const bool learn = ctx.params.Bool("learn_conversion_delay");
    if (!Given(ctx, "conversion_delay_hours")) return learn;
    if (!Given(ctx, "learn_conversion_delay") || !learn) return false;
    const ComponentSpec& spec = ctx.scenario->campaigns[static_cast<size_t>(ctx.campaign)].bidder;
    const auto line = spec.param_lines.find("learn_conversion_delay");
    throw ConfigError({{ctx.scenario->source_name, ctx.where + ".params.learn_conversion_delay",
                        line == spec.param_lines.end() ? 0 : line->second,
                        "false, or no conversion_delay_hours (the delay is either learned or assumed; "
                        "conversion_delay_hours " +
                            FormatNumber(ctx.params.Number("conversion_delay_hours")) + " is also given)",
                        "true"}});
  }

  // One row per cell (channel * segments + segment): 1, the segment's public
  // features, and an indicator of each channel after the first.
  static Eigen::MatrixXd LogisticFeatures(const PublicScenario& sc) {
    const int nc = static_cast<int>(sc.channels.size()), ns = static_cast<int>(sc.segments.size());
    const int nf = static_cast<int>(sc.feature_names.size());
    Eigen::MatrixXd x = Eigen::MatrixXd::Zero(nc * ns, 1 + nf + std::max(0, nc - 1));
    for (int ch = 0; ch < nc; ++ch)
      for (int s = 0; s < ns; ++s) {
        const int k = ch * ns + s;
        x(k, 0) = 1.0;
        for (int f = 0; f < nf && f < static_cast<int>(sc.segments[s].features.size()); ++f)
          x(k, 1 + f) = sc.segments[s].features[f];
        if (ch > 0) x(k, nf + ch) = 1.0;
      }
    return x;
  }

  void Update(const Snapshot& snap, int campaign) {
    const double dt_h = has_last_ ? static_cast<double>(snap.time - last_time_) / kMicrosPerHour : 0.0;
    has_last_ = true;
    last_time_ = snap.time;
    const double m = delay_hours_;
    const double decay = m > 0 ? std::exp(-dt_h / m) : 0.0;
    // Mean of exp(-(now - c) / m) over click times c spread evenly over the cycle just ended.
    const double cohort = m > 0 ? (dt_h > 0 ? (m / dt_h) * (1.0 - std::exp(-dt_h / m)) : 1.0) : 0.0;
    if (learn_delay_)
      for (size_t g = 0; g < delay_grid_.size(); ++g) {
        const double mg = delay_grid_[g];
        grid_decay_[g] = std::exp(-dt_h / mg);
        grid_cohort_[g] = dt_h > 0 ? (mg / dt_h) * (1.0 - std::exp(-dt_h / mg)) : 1.0;
      }
    const int nk = snap.num_creatives[campaign];
    if (per_creative_) {
      nk_ = nk;
      creative_impressions_.assign(cells_.size() * static_cast<size_t>(nk), 0.0);
      creative_clicks_.assign(creative_impressions_.size(), 0.0);
    }
    double camp_conv = 0, camp_value = 0, camp_clicks = 0;
    for (int ch = 0; ch < nc_; ++ch)
      for (int s = 0; s < ns_; ++s) {
        CellEstimate& e = cells_[ch * ns_ + s];
        double imps = 0, clicks = 0, conv = 0, value = 0, new_clicks = 0;
        for (int cr = 0; cr < nk; ++cr) {
          const int cell = snap.Cell(campaign, ch, s, cr);
          const ObservedStats& t = snap.total[cell];
          imps += static_cast<double>(t.impressions);
          clicks += static_cast<double>(t.clicks);
          conv += static_cast<double>(t.conversions);
          value += t.conversion_value;
          new_clicks += static_cast<double>(snap.last_cycle[cell].clicks);
          if (per_creative_) {
            const size_t i = (static_cast<size_t>(ch) * ns_ + s) * nk + cr;
            creative_impressions_[i] = static_cast<double>(t.impressions);
            creative_clicks_[i] = static_cast<double>(t.clicks);
          }
        }
        e.impressions = imps;
        e.clicks = clicks;
        e.conversions = conv;
        e.conversion_value = value;
        e.pending_clicks = e.pending_clicks * decay + new_clicks * cohort;
        if (learn_delay_) {
          double* pending = &grid_pending_[static_cast<size_t>(ch * ns_ + s) * delay_grid_.size()];
          for (size_t g = 0; g < delay_grid_.size(); ++g)
            pending[g] = pending[g] * grid_decay_[g] + new_clicks * grid_cohort_[g];
        }
        camp_conv += conv;
        camp_value += value;
        camp_clicks += clicks;
      }
    if (learn_delay_) LearnDelay(camp_clicks, camp_conv);
    const double v_campaign = camp_conv > 0 ? camp_value / camp_conv : 0.0;
    if (logistic_) FitLogistic();
    if (pooling_ && !logistic_) Pool();
    for (size_t k = 0; k < cells_.size(); ++k) {
      CellEstimate& e = cells_[k];
      if (logistic_) {
        // The Beta prior's mean replaced by the model's prediction, with the same weight.
        const double kc = ctr_k_, kv = cvr_k_;
        const double mc = ctr_model_.Predict(features_.row(static_cast<Eigen::Index>(k)));
        const double mv = cvr_model_.Predict(features_.row(static_cast<Eigen::Index>(k)));
        e.ctr = estimators::BetaBinomial{kc * mc, kc * (1 - mc), e.clicks, e.impressions}.Mean();
        e.cvr = estimators::BetaBinomial{kv * mv, kv * (1 - mv), e.conversions, e.EffectiveClicks()}.Mean();
      } else if (!pooling_) {
        e.ctr = estimators::BetaBinomial{ctr_alpha_, ctr_beta_, e.clicks, e.impressions}.Mean();
        e.cvr = estimators::BetaBinomial{cvr_alpha_, cvr_beta_, e.conversions, e.EffectiveClicks()}.Mean();
      }
      e.cvr_naive = estimators::BetaBinomial{cvr_alpha_, cvr_beta_, e.conversions, e.clicks}.Mean();
      e.value_per_conversion = (e.conversion_value + k0_ * v_campaign) / std::max(1e-300, e.conversions + k0_);
      if (e.conversions + k0_ <= 0) e.value_per_conversion = v_campaign;
      e.ready = camp_conv > 0 && e.impressions >= min_impressions_;
      e.relative_half_width = RelativeHalfWidth(e, ClickBilled(static_cast<int>(k) / ns_));
      e.exploring = explore_share_ > 0 && e.ready && e.relative_half_width > explore_width_;
    }
    if (per_creative_) CreativeFactors();
    if (fatigue_) fatigue_model_.Update(snap, campaign, click_billed_);
  }

  // With per_creative_ctr, on an impression-billed channel: the creative's
  // click rate relative to its cell's estimate (1 otherwise, and for a
  // creative index outside the campaign's); with fatigue: exposure, times the
  // creative's current fatigue relative to the cell's history
  // (ExposureFatigue::Factor).
  double CreativeFactor(int channel, int segment, int creative) const {
    if (!creative_factors_) return 1.0;  // the default: one bid per cell, one test in Bid
    return CreativeAndFatigueFactor(channel, segment, creative);
  }
  // The fatigue model (fatigue: exposure), for diagnostics and tests.
  const ExposureFatigue& fatigue_model() const { return fatigue_model_; }

 private:
  // CreativeFactor with per_creative_ctr or fatigue: exposure on.
  double CreativeAndFatigueFactor(int channel, int segment, int creative) const {
    const double fatigue = fatigue_ ? fatigue_model_.Factor(channel, segment, creative) : 1.0;
    if (!per_creative_ || creative < 0 || creative >= nk_) return fatigue;
    return fatigue * creative_factor_[(static_cast<size_t>(channel) * ns_ + segment) * nk_ + creative];
  }

 public:
  // With learn_conversion_delay: the posterior mean of the exponential
  // delay's mean (hours) over the grid; else conversion_delay_hours.
  double DelayHours() const {
    if (!learn_delay_) return delay_hours_;
    double mean = 0;
    for (size_t g = 0; g < delay_grid_.size(); ++g) mean += delay_weight_[g] * delay_grid_[g];
    return mean;
  }

  // The exploration floor of a cell as a share of the base bid: explore_bid_share
  // while the cell's interval is wide, else 0.
  double ExploreFloorShare(int channel, int segment) const {
    return at(channel, segment).exploring ? explore_share_ : 0.0;
  }

  // Empirical-Bayes prior strength (pseudo-trials) of cells around their
  // parents' means, by the method of moments: if a child's rate is drawn from
  // Beta(k m, k (1 - m)) around its parent's mean m and its successes are
  // binomial given the rate, its Pearson statistic (s - n m)^2 / (n m (1 - m))
  // has expectation 1 + (n - 1) / (k + 1). Summed over the J children with at
  // least 2 trials, less `parameters` degrees of freedom for the parents'
  // means fitted on the same data:
  //   k + 1 = sum (n - 1) / (sum Pearson - (J - parameters)),
  // clamped to [k_min, k_max]; k_max (full pooling) when the children scatter
  // no more than sampling noise explains, or when none has 2 trials.
  static double PooledStrength(const std::vector<double>& trials, const std::vector<double>& successes,
                               const std::vector<double>& parent_mean, int parameters, double k_min, double k_max) {
    double pearson = 0, excess_trials = 0;
    int children = 0;
    for (size_t j = 0; j < trials.size(); ++j) {
      const double n = trials[j], m = parent_mean[j];
      if (n < 2) continue;
      const double v = n * m * (1.0 - m);
      if (!(v > 0)) continue;
      pearson += (successes[j] - n * m) * (successes[j] - n * m) / v;
      excess_trials += n - 1.0;
      ++children;
    }
    const double excess = pearson - std::max(0, children - parameters);
    if (children == 0 || !(excess > 0)) return k_max;
    return std::clamp(excess_trials / excess - 1.0, k_min, k_max);
  }
  int num_channels() const { return nc_; }
  int num_segments() const { return ns_; }
  const CellEstimate& at(int channel, int segment) const { return cells_[channel * ns_ + segment]; }
  bool ClickBilled(int channel) const { return scenario_->channels[channel].billing == Billing::kClick; }
  bool FirstPrice(int channel) const { return scenario_->channels[channel].auction == AuctionType::kFirstPrice; }
  // Expected conversion value per billing unit: per click on click-billed
  // channels (pCVR * v), per impression otherwise (pCTR * pCVR * v).
  double ValuePerBillingUnit(int channel, int segment) const {
    const CellEstimate& e = at(channel, segment);
    return ClickBilled(channel) ? e.ValuePerClick() : e.ValuePerImpression();
  }
  // Expected conversions per billing unit: pCVR per click, pCTR * pCVR per impression.
  double ConversionsPerBillingUnit(int channel, int segment) const {
    const CellEstimate& e = at(channel, segment);
    return ClickBilled(channel) ? e.cvr : e.ctr * e.cvr;
  }
  const PublicScenario& scenario() const { return *scenario_; }
  int campaign() const { return campaign_; }
  const estimators::LogisticModel& ctr_model() const { return ctr_model_; }
  const estimators::LogisticModel& cvr_model() const { return cvr_model_; }

 private:
  // Refits both regressions on the cells' counts (warm start from the last
  // cycle's coefficients). CVR uses the delay-corrected effective clicks as
  // trials, so it corrects for conversions not yet reported exactly as the
  // Beta-Binomial estimate does.
  void FitLogistic() {
    for (size_t k = 0; k < cells_.size(); ++k) {
      trials_[k] = cells_[k].impressions;
      successes_[k] = std::min(cells_[k].clicks, cells_[k].impressions);
    }
    ctr_model_.Fit(features_, trials_, successes_);
    ctr_k_ = ctr_model_.ShrinkageWeight(features_, trials_, successes_, ctr_alpha_ + ctr_beta_, kMaxShrinkage);
    for (size_t k = 0; k < cells_.size(); ++k) {
      trials_[k] = cells_[k].EffectiveClicks();
      successes_[k] = std::min(cells_[k].conversions, trials_[k]);
    }
    cvr_model_.Fit(features_, trials_, successes_);
    cvr_k_ = cvr_model_.ShrinkageWeight(features_, trials_, successes_, cvr_alpha_ + cvr_beta_, kMaxShrinkage);
  }
  static constexpr double kMaxShrinkage = 1e5;

  // One rate (CTR or CVR) pooled campaign -> channel -> cell; writes each
  // cell's estimate through `out`. `trials` and `successes` give a cell's counts.
  template <class Trials, class Successes, class Out>
  void PoolRate(double alpha0, double beta0, Trials trials, Successes successes, Out out) {
    const size_t nc = static_cast<size_t>(nc_), ns = static_cast<size_t>(ns_);
    channel_trials_.assign(nc, 0.0);
    channel_successes_.assign(nc, 0.0);
    double total_trials = 0, total_successes = 0;
    for (size_t k = 0; k < cells_.size(); ++k) {
      const double n = trials(cells_[k]), s = std::min(successes(cells_[k]), n);
      channel_trials_[k / ns] += n;
      channel_successes_[k / ns] += s;
      total_trials += n;
      total_successes += s;
    }
    const double campaign_mean = (alpha0 + total_successes) / (alpha0 + beta0 + total_trials);
    const double k_min = alpha0 + beta0;
    scratch_mean_.assign(nc, campaign_mean);
    const double k_channel =
        PooledStrength(channel_trials_, channel_successes_, scratch_mean_, 1, k_min, kMaxShrinkage);
    channel_mean_.resize(nc);
    for (size_t ch = 0; ch < nc; ++ch)
      channel_mean_[ch] = (k_channel * campaign_mean + channel_successes_[ch]) / (k_channel + channel_trials_[ch]);
    cell_trials_.resize(cells_.size());
    cell_successes_.resize(cells_.size());
    scratch_mean_.resize(cells_.size());
    for (size_t k = 0; k < cells_.size(); ++k) {
      cell_trials_[k] = trials(cells_[k]);
      cell_successes_[k] = std::min(successes(cells_[k]), cell_trials_[k]);
      scratch_mean_[k] = channel_mean_[k / ns];
    }
    const double k_cell =
        PooledStrength(cell_trials_, cell_successes_, scratch_mean_, static_cast<int>(nc) + 1, k_min, kMaxShrinkage);
    for (size_t k = 0; k < cells_.size(); ++k)
      out(cells_[k], (k_cell * scratch_mean_[k] + cell_successes_[k]) / (k_cell + cell_trials_[k]));
  }

  // The delay grid's posterior from the campaign's reported conversions,
  // then each cell's pending clicks averaged over it. Under an exponential
  // delay of mean m, the conversions reported during a cycle are Poisson with
  // mean pCVR * dE(m), where E(m) = clicks - pending(m) is the expected number
  // of clicks whose conversion (if any) has been reported by now. Profiling
  // pCVR out (its estimate is C / E(m) for C conversions so far), the log
  // likelihood of m is  sum over cycles of c_t log dE_t(m)  -  C log E(m),
  // the multinomial allocation of the C conversions over the cycles. The
  // prior is uniform over the grid (log-uniform in m).
  void LearnDelay(double clicks, double conversions) {
    const size_t ng = delay_grid_.size();
    const double new_conversions = std::max(0.0, conversions - last_conversions_);
    last_conversions_ = conversions;
    double best = -std::numeric_limits<double>::infinity();
    for (size_t g = 0; g < ng; ++g) {
      double pending = 0;
      for (size_t k = 0; k < cells_.size(); ++k) pending += grid_pending_[k * ng + g];
      const double expected = std::max(0.0, clicks - pending);
      const double step = expected - grid_expected_[g];
      grid_expected_[g] = expected;
      if (new_conversions > 0) grid_log_lik_[g] += new_conversions * std::log(std::max(step, 1e-12));
      delay_weight_[g] = grid_log_lik_[g] - (conversions > 0 ? conversions * std::log(std::max(expected, 1e-12)) : 0);
      best = std::max(best, delay_weight_[g]);
    }
    double sum = 0;
    for (size_t g = 0; g < ng; ++g) sum += delay_weight_[g] = std::exp(delay_weight_[g] - best);
    for (size_t g = 0; g < ng; ++g) delay_weight_[g] /= sum;
    for (size_t k = 0; k < cells_.size(); ++k) {
      double pending = 0;
      for (size_t g = 0; g < ng; ++g) pending += delay_weight_[g] * grid_pending_[k * ng + g];
      cells_[k].pending_clicks = pending;
    }
  }

  // Candidate means of the exponential delay: 15 minutes to about 11 days,
  // by factors of sqrt(2).
  static std::vector<double> DelayGrid() {
    std::vector<double> grid;
    for (int i = 0; i <= 20; ++i) grid.push_back(0.25 * std::exp2(0.5 * i));
    return grid;
  }

  // Per (cell, creative): pCTR_creative = (k * pCTR_cell + clicks) / (k +
  // impressions), with k estimated by the method of moments over every
  // creative of every cell around its cell's estimate (PooledStrength, one
  // parameter per cell), and the factor pCTR_creative / pCTR_cell. A
  // creative that clicks better than its cell's average then bids more in
  // proportion, as the oracle's bid does (true CTR x CVR x value per
  // impression); 1 on click-billed channels, where the bid is per click.
  void CreativeFactors() {
    const size_t nk = static_cast<size_t>(nk_);
    creative_factor_.assign(creative_impressions_.size(), 1.0);
    scratch_mean_.resize(creative_impressions_.size());
    int cells_with_data = 0;
    for (size_t k = 0; k < cells_.size(); ++k) {
      double n = 0;
      for (size_t cr = 0; cr < nk; ++cr) {
        scratch_mean_[k * nk + cr] = cells_[k].ctr;
        n += creative_impressions_[k * nk + cr];
      }
      if (n > 0) ++cells_with_data;
    }
    const double strength = PooledStrength(creative_impressions_, creative_clicks_, scratch_mean_, cells_with_data,
                                           ctr_alpha_ + ctr_beta_, kMaxShrinkage);
    for (size_t k = 0; k < cells_.size(); ++k) {
      const double cell_ctr = cells_[k].ctr;
      if (ClickBilled(static_cast<int>(k) / ns_) || !(cell_ctr > 0)) continue;
      for (size_t cr = 0; cr < nk; ++cr) {
        const size_t i = k * nk + cr;
        const double clicks = std::min(creative_clicks_[i], creative_impressions_[i]);
        creative_factor_[i] = (strength * cell_ctr + clicks) / (strength + creative_impressions_[i]) / cell_ctr;
      }
    }
  }

  void Pool() {
    PoolRate(
        ctr_alpha_, ctr_beta_, [](const CellEstimate& e) { return e.impressions; },
        [](const CellEstimate& e) { return e.clicks; }, [](CellEstimate& e, double r) { e.ctr = r; });
    PoolRate(
        cvr_alpha_, cvr_beta_, [](const CellEstimate& e) { return e.EffectiveClicks(); },
        [](const CellEstimate& e) { return e.conversions; }, [](CellEstimate& e, double r) { e.cvr = r; });
  }

  // Relative half-width of the central 95 % interval of Beta(alpha0 + s,
  // beta0 + n - s) (the cell's own evidence under the weak Beta prior),
  // relative to `estimate`, the rate the bid uses.
  static double RateRelativeHalfWidth(double alpha0, double beta0, double s, double n, double estimate) {
    const double a = alpha0 + s, b = beta0 + std::max(0.0, n - s);
    const boost::math::beta_distribution<double> posterior(a, b);
    const double width = boost::math::quantile(posterior, 0.975) - boost::math::quantile(posterior, 0.025);
    return estimate > 0 ? width / (2.0 * estimate) : std::numeric_limits<double>::infinity();
  }

  // The value per billing unit is pCVR * v per click, pCTR * pCVR * v per
  // impression: relative errors combine in quadrature (delta method).
  double RelativeHalfWidth(const CellEstimate& e, bool click_billed) const {
    const double cvr = RateRelativeHalfWidth(cvr_alpha_, cvr_beta_, std::min(e.conversions, e.EffectiveClicks()),
                                             e.EffectiveClicks(), e.cvr);
    if (click_billed) return cvr;
    const double ctr =
        RateRelativeHalfWidth(ctr_alpha_, ctr_beta_, std::min(e.clicks, e.impressions), e.impressions, e.ctr);
    return std::sqrt(cvr * cvr + ctr * ctr);
  }

  const PublicScenario* scenario_;
  int campaign_;
  double ctr_alpha_, ctr_beta_, cvr_alpha_, cvr_beta_, k0_, delay_hours_, min_impressions_;
  int nc_, ns_;
  std::vector<CellEstimate> cells_;
  bool logistic_;
  bool pooling_;
  double explore_share_, explore_width_;
  bool per_creative_;
  int nk_ = 0;                                                  // creatives of the campaign (per_creative_ctr)
  std::vector<double> creative_impressions_, creative_clicks_;  // per cell x creative (per_creative_ctr)
  std::vector<double> creative_factor_;                         // per cell x creative: pCTR_creative / pCTR_cell
  bool fatigue_;
  bool creative_factors_;           // per_creative_ || fatigue_: CreativeFactor is not 1
  std::vector<bool> click_billed_;  // per channel
  ExposureFatigue fatigue_model_;   // fatigue: exposure
  bool learn_delay_;
  std::vector<double> delay_grid_, grid_decay_, grid_cohort_;        // candidate delay means (hours), per-cycle factors
  std::vector<double> grid_expected_, grid_log_lik_, delay_weight_;  // per candidate: E(m), log likelihood, posterior
  std::vector<double> grid_pending_;                                 // per cell x candidate: pending clicks
  double last_conversions_ = 0;
  std::vector<double> channel_trials_, channel_successes_, channel_mean_, cell_trials_, cell_successes_,
      scratch_mean_;          // scratch for Pool()
  Eigen::MatrixXd features_;  // per cell (channel * segments + segment)
  estimators::LogisticModel ctr_model_, cvr_model_;
  Eigen::VectorXd trials_, successes_;  // scratch for the fits
  double ctr_k_ = 0, cvr_k_ = 0;        // shrinkage weights towards the models, in pseudo-trials
  bool has_last_ = false;
  SimTime last_time_ = 0;
};

// The hot-path table: bid(channel, segment) = add[k] + mul[k] * base_bid,
// precomputed in OnCycle so Bid() is one lookup and one multiply-add.
class BidTable {
 public:
  BidTable(const BuildContext& ctx, bool follow_base_bid)
      : ns_(static_cast<int>(ctx.scenario->segments.size())),
        initial_bid_(ctx.scenario->campaigns[ctx.campaign].bid),
        follow_(follow_base_bid && initial_bid_ > 0),
        add_(ctx.scenario->channels.size() * ctx.scenario->segments.size(), 0.0),
        mul_(add_.size(), 1.0),
        floor_(add_.size(), 0.0) {}
  // Bid the base bid (the fallback before there is evidence).
  void SetBaseBid(int channel, int segment) {
    add_[channel * ns_ + segment] = 0.0;
    mul_[channel * ns_ + segment] = 1.0;
    floor_[channel * ns_ + segment] = 0.0;
  }
  // Bid `value` (scaled by base bid / initial base bid if following the base
  // bid), and at least floor_share * base bid (the exploration floor; 0 = none).
  void SetValue(int channel, int segment, double value, double floor_share = 0.0) {
    const int k = channel * ns_ + segment;
    floor_[k] = floor_share;
    if (follow_) {
      add_[k] = 0.0;
      mul_[k] = value / initial_bid_;
    } else {
      add_[k] = value;
      mul_[k] = 0.0;
    }
  }
  double Get(int channel, int segment, double base_bid) const {
    const int k = channel * ns_ + segment;
    return std::max(add_[k] + mul_[k] * base_bid, floor_[k] * base_bid);
  }

 private:
  int ns_;
  double initial_bid_;
  bool follow_;
  std::vector<double> add_, mul_, floor_;
};

}  // namespace adsim::valuation
