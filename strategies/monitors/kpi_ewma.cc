// kpi_ewma: an EWMA control chart (Roberts 1959) with exact time-varying
// limits on a KPI per campaign x channel (x segment).
#include "strategies/monitors/lib/kpi_series.h"

namespace adsim::monitors {
namespace {

class KpiEwma final : public monitors::KpiMonitor {
 public:
  explicit KpiEwma(const BuildContext& ctx) : KpiMonitor(ctx) {
    L_ = ctx.params.Number("L");
    UseDetector(ctx, "ewma",
                {{"lambda", ParamText(ctx.params.Number("lambda"))},
                 {"warmup", ParamText(ctx.params.Number("warmup_cycles"))},
                 {"relevel_after", ParamText(ctx.params.Number("relevel_cycles"))},
                 {"threshold", ParamText(ScoreOfZ(L_, monitors::SideParam(ctx.params)))}});
  }

 private:
  std::string Describe() const override { return "EWMA level, residual beyond " + FormatNumber(L_) + " sd"; }
  double L_;
};

ADSIM_REGISTER_MONITOR(
    KpiEwma, "kpi_ewma", "Adapting EW level and scale detector on a KPI per campaign x channel (x segment).",
    monitors::KpiParams(
        {NumberParam("lambda", 0.02, "weight of the newest cycle in the adapting level", 0.001, 1),
         NumberParam("L", 2.9, "residual in standard deviations that alerts (score 1 - p; 2.9: p = 0.0019 one side)",
                     0.7, 7.5),
         NumberParam("warmup_cycles", 96, "charted cycles before the first alert; 96 = a day of 15-min cycles", 2,
                     10000),
         // Defaults tuned on the monitoring benchmark's seeds 101-110 (docs/monitoring.md, "Tuning the KPI
         // monitors' defaults"): a per-cycle rate drop is 2-4 sd a cycle, so L 2.9 (was 3.29); and a drop
         // lasting 8 cycles (2 h of 15-min cycles), not 3, before it is taken as the new level without an
         // alert (the detector's relevel_after), so a sharp drop has more cycles in which to cross L.
         NumberParam("relevel_cycles", 8,
                     "cycles in a row beyond 2 sd on one side that are taken as the new level without an alert", 1,
                     16)}));

}  // namespace
}  // namespace adsim::monitors
