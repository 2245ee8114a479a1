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
         NumberParam("L", 3.29, "residual in standard deviations that alerts (score 1 - p; 3.29: p = 0.001 both sides)",
                     0.7, 7.5),
         NumberParam("warmup_cycles", 96, "charted cycles before the first alert; 96 = a day of 15-min cycles", 2,
                     10000)}));

}  // namespace
}  // namespace adsim::monitors
