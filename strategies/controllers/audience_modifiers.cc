// audience_modifiers: segment bid modifiers from observed conversion rates,
// and segment exclusion under a minimum-evidence rule. Per campaign, each
// control cycle, for each segment s it targets:
//   r_s = (conversions_s + k r) / (impressions_s + k)   (shrunk towards the
//          campaign's rate r = conversions / impressions with strength k =
//          prior_impressions, so thin segments stay near 1),
//   modifier_s = clamp((r_s / r)^power, min_modifier, max_modifier);
// and s is excluded (modifier 0) once it has at least min_clicks clicks and
// the posterior probability that its conversion rate per click is below
// exclude_below x the campaign's is at least confidence (Beta(conv + 1,
// clicks - conv + 1) posterior). Excluded segments are not re-evaluated.
#include <boost/math/special_functions/beta.hpp>
#include <cmath>

#include "core/registry.h"

namespace adsim::controllers {
namespace {

class AudienceModifiers final : public Controller {
 public:
  explicit AudienceModifiers(const BuildContext& ctx)
      : scenario_(*ctx.scenario),
        prior_(ctx.params.Number("prior_impressions")),
        power_(ctx.params.Number("power")),
        min_mod_(ctx.params.Number("min_modifier")),
        max_mod_(ctx.params.Number("max_modifier")),
        exclude_(ctx.params.Bool("exclude")),
        min_clicks_(ctx.params.Number("min_clicks")),
        exclude_below_(ctx.params.Number("exclude_below")),
        confidence_(ctx.params.Number("confidence")) {}

  void OnCycle(const Snapshot& snap, int campaign, std::vector<Action>* actions) override {
    const CampaignState& st = snap.campaigns[campaign];
    const auto& segments = scenario_.campaigns[campaign].segments;
    excluded_.resize(snap.num_segments, false);
    // Per-segment totals over the campaign's channels and creatives.
    std::vector<ObservedStats> seg(snap.num_segments);
    ObservedStats all;
    for (int s : segments)
      for (int ch = 0; ch < snap.num_channels; ++ch)
        for (int cr = 0; cr < snap.num_creatives[campaign]; ++cr) {
          const ObservedStats& o = snap.total[snap.Cell(campaign, ch, s, cr)];
          seg[s].Add(o);
          all.Add(o);
        }
    if (all.impressions == 0 || all.conversions == 0) return;  // nothing learned yet
    const double r = static_cast<double>(all.conversions) / static_cast<double>(all.impressions);
    const double cvr = all.clicks > 0 ? static_cast<double>(all.conversions) / static_cast<double>(all.clicks) : 0.0;
    for (int s : segments) {
      if (excluded_[s]) continue;
      const ObservedStats& o = seg[s];
      double target;
      std::string why, metric;
      double observed = 0.0, threshold = 0.0;
      const double conv = static_cast<double>(o.conversions), clicks = static_cast<double>(o.clicks);
      if (exclude_ && clicks >= min_clicks_ && cvr > 0 &&
          boost::math::ibeta(conv + 1, clicks - conv + 1, std::min(1.0, exclude_below_ * cvr)) >= confidence_) {
        target = 0.0;
        excluded_[s] = true;
        why = "exclude: conversion rate per click below " + std::to_string(exclude_below_) + " x campaign's";
        // Posterior probability that the segment's conversion rate per click
        // is below exclude_below x the campaign's, against the confidence asked.
        metric = "p_cvr_below";
        observed = boost::math::ibeta(conv + 1, clicks - conv + 1, std::min(1.0, exclude_below_ * cvr));
        threshold = confidence_;
      } else {
        const double rs = (conv + prior_ * r) / (static_cast<double>(o.impressions) + prior_);
        target = std::clamp(std::pow(rs / r, power_), min_mod_, max_mod_);
        why = "conversion rate per impression " + std::to_string(rs / r) + " x campaign's";
        // The segment's shrunk conversion rate per impression relative to
        // the campaign's (1 = the campaign's average, modifier 1).
        metric = "conversion_rate_ratio";
        observed = rs / r;
        threshold = 1.0;
      }
      if (std::fabs(target - st.segment_modifier[s]) <= 0.01 * std::max(0.01, st.segment_modifier[s])) continue;
      Action a;
      a.kind = ActionKind::kSetSegmentModifier;
      a.campaign = campaign;
      a.segment = s;
      a.value = target;
      a.reason = why;
      a.metric = metric;
      a.observed = observed;
      a.threshold = threshold;
      actions->push_back(a);
    }
  }

 private:
  const PublicScenario& scenario_;
  double prior_, power_, min_mod_, max_mod_;
  bool exclude_;
  double min_clicks_, exclude_below_, confidence_;
  std::vector<bool> excluded_;
};

ADSIM_REGISTER_CONTROLLER(
    AudienceModifiers, "audience_modifiers",
    "Segment bid modifiers from observed conversion rates, and exclusion of segments proven poor.",
    NumberParam("prior_impressions", 20000, "shrinkage towards the campaign's rate, in impressions", 0, 1e12),
    NumberParam("power", 1.0, "modifier = (segment rate / campaign rate)^power", 0, 10),
    NumberParam("min_modifier", 0.2, "lowest modifier short of exclusion", 0, 1),
    NumberParam("max_modifier", 3.0, "highest modifier", 1, 100),
    BoolParam("exclude", true, "exclude segments proven poor"),
    NumberParam("min_clicks", 300, "clicks a segment needs before it can be excluded", 0, 1e12),
    NumberParam("exclude_below", 0.5, "exclude when its conversion rate per click is below this x the campaign's", 0,
                1),
    NumberParam("confidence", 0.99, "posterior probability required to exclude", 0.5, 0.999999));

}  // namespace
}  // namespace adsim::controllers
