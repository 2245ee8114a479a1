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
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/registry.h"
#include "core/strategy.h"
#include "core/types.h"
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
  };
  for (auto& e : extra) p.push_back(std::move(e));
  return p;
}

struct CellEstimate {
  double impressions = 0, clicks = 0, conversions = 0, conversion_value = 0;
  double pending_clicks = 0;  // expected clicks whose conversion has not been reported yet
  double ctr = 0, cvr = 0, cvr_naive = 0, value_per_conversion = 0;
  bool ready = false;  // enough evidence to bid on the estimate
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
    const int nk = snap.num_creatives[campaign];
    double camp_conv = 0, camp_value = 0;
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
        }
        e.impressions = imps;
        e.clicks = clicks;
        e.conversions = conv;
        e.conversion_value = value;
        e.pending_clicks = e.pending_clicks * decay + new_clicks * cohort;
        camp_conv += conv;
        camp_value += value;
      }
    const double v_campaign = camp_conv > 0 ? camp_value / camp_conv : 0.0;
    if (logistic_) FitLogistic();
    for (size_t k = 0; k < cells_.size(); ++k) {
      CellEstimate& e = cells_[k];
      if (logistic_) {
        // The Beta prior's mean replaced by the model's prediction, with the same weight.
        const double kc = ctr_k_, kv = cvr_k_;
        const double mc = ctr_model_.Predict(features_.row(static_cast<Eigen::Index>(k)));
        const double mv = cvr_model_.Predict(features_.row(static_cast<Eigen::Index>(k)));
        e.ctr = estimators::BetaBinomial{kc * mc, kc * (1 - mc), e.clicks, e.impressions}.Mean();
        e.cvr = estimators::BetaBinomial{kv * mv, kv * (1 - mv), e.conversions, e.EffectiveClicks()}.Mean();
      } else {
        e.ctr = estimators::BetaBinomial{ctr_alpha_, ctr_beta_, e.clicks, e.impressions}.Mean();
        e.cvr = estimators::BetaBinomial{cvr_alpha_, cvr_beta_, e.conversions, e.EffectiveClicks()}.Mean();
      }
      e.cvr_naive = estimators::BetaBinomial{cvr_alpha_, cvr_beta_, e.conversions, e.clicks}.Mean();
      e.value_per_conversion = (e.conversion_value + k0_ * v_campaign) / std::max(1e-300, e.conversions + k0_);
      if (e.conversions + k0_ <= 0) e.value_per_conversion = v_campaign;
      e.ready = camp_conv > 0 && e.impressions >= min_impressions_;
    }
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

  const PublicScenario* scenario_;
  int campaign_;
  double ctr_alpha_, ctr_beta_, cvr_alpha_, cvr_beta_, k0_, delay_hours_, min_impressions_;
  int nc_, ns_;
  std::vector<CellEstimate> cells_;
  bool logistic_;
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
        mul_(add_.size(), 1.0) {}
  // Bid the base bid (the fallback before there is evidence).
  void SetBaseBid(int channel, int segment) {
    add_[channel * ns_ + segment] = 0.0;
    mul_[channel * ns_ + segment] = 1.0;
  }
  // Bid `value` (scaled by base bid / initial base bid if following the base bid).
  void SetValue(int channel, int segment, double value) {
    const int k = channel * ns_ + segment;
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
    return add_[k] + mul_[k] * base_bid;
  }

 private:
  int ns_;
  double initial_bid_;
  bool follow_;
  std::vector<double> add_, mul_;
};

}  // namespace adsim::valuation
