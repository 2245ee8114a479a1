// kpi_seasonal: an hour-of-week (or hour-of-day) baseline with a robust
// z-score (median and 1.4826 MAD of the same slot in past seasons) on a KPI
// per campaign x channel (x segment): it expects the weekly rhythm of traffic.
#include "strategies/monitors/lib/kpi_series.h"

namespace adsim::monitors {
namespace {

class KpiSeasonal final : public monitors::KpiMonitor {
 public:
  explicit KpiSeasonal(const BuildContext& ctx) : KpiMonitor(ctx) {
    const double min_seasons = ctx.params.Number("min_seasons"), max_seasons = ctx.params.Number("max_seasons");
    z_ = ctx.params.Number("threshold");
    if (max_seasons < min_seasons)
      throw ConfigError({{ctx.scenario->source_name, ctx.where + ".params.max_seasons", 0,
                          "at least min_seasons (" + FormatNumber(min_seasons) + ")", FormatNumber(max_seasons)}});
    // A slot's offset adapts with weight 1 / max_seasons per visit (it
    // averages about the last max_seasons seasons); the alarm is the score of
    // a residual of `threshold` standard deviations on the armed side(s).
    UseDetector(ctx, "seasonal",
                {{"period", ctx.params.String("period")},
                 {"min_seasons", ParamText(min_seasons)},
                 {"season_gamma", ParamText(1.0 / max_seasons)},
                 {"relevel_after", ParamText(ctx.params.Number("relevel_cycles"))},
                 {"threshold", ParamText(ScoreOfZ(z_, monitors::SideParam(ctx.params)))}});
  }

 private:
  std::string Describe() const override { return "seasonal, residual beyond " + FormatNumber(z_) + " sd"; }
  double z_;
};

ADSIM_REGISTER_MONITOR(
    KpiSeasonal, "kpi_seasonal",
    "Seasonal detector (hour-of-day or hour-of-week profile on an adapting robust level) on a KPI.",
    monitors::KpiParams(
        {StringParam("period", "day", "season: hour of the day or of the week", {"day", "week"}),
         NumberParam("min_seasons", 8, "visits of the slot needed before alerting", 2, 1000),
         NumberParam("max_seasons", 8, "seasons a slot's offset averages over (it adapts by 1/max_seasons)", 2, 1000),
         NumberParam("threshold", 3.25, "residual in standard deviations that alerts (score 1 - p)", 0.7, 7.5),
         // Defaults tuned on the monitoring benchmark's seeds 101-110 (docs/monitoring.md, "Tuning the KPI
         // monitors' defaults"): threshold 3.25 (was 5), max_seasons 8 (was 16), and 8 cycles (2 h of 15-min
         // cycles, not 3) in a row beyond 2 sd before a shift is the new level without an alert.
         NumberParam("relevel_cycles", 8,
                     "cycles in a row beyond 2 sd on one side that are taken as the new level without an alert", 1,
                     16)},
        "both"));

}  // namespace
}  // namespace adsim::monitors
