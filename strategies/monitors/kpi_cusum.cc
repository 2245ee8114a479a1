// kpi_cusum: a standardised CUSUM (Page 1954) on a KPI per campaign x channel
// (x segment), fed once per control cycle with the last cycle's counts; the
// in-control level is estimated over a warm-up; the sums reset after an alarm.
#include <cmath>

#include "strategies/monitors/lib/kpi_series.h"

namespace adsim::monitors {
namespace {

class KpiCusum final : public monitors::KpiMonitor {
 public:
  explicit KpiCusum(const BuildContext& ctx) : KpiMonitor(ctx) {
    const double k = ctx.params.Number("k");
    h_ = ctx.params.Number("h");
    // The sum reaching h has score 1 - e^(-2 k h) on one side (twice the
    // tail for both sides).
    const double tail = (ctx.params.String("side") == "both" ? 2.0 : 1.0) * std::exp(-2.0 * k * h_);
    UseDetector(ctx, "cusum",
                {{"k", ParamText(k)},
                 {"warmup", ParamText(ctx.params.Number("warmup_cycles"))},
                 {"threshold", ParamText(1.0 - tail)}});
  }

 private:
  std::string Describe() const override { return "CUSUM reached h = " + FormatNumber(h_); }
  double h_;
};

ADSIM_REGISTER_MONITOR(
    KpiCusum, "kpi_cusum",
    "CUSUM on a KPI (a rate such as ctr, or a per-cycle level) per campaign x channel (x segment).",
    monitors::KpiParams(
        {NumberParam("k", 0.5, "reference value in standard deviations (half the shift to detect)", 0.01, 10),
         NumberParam("h", 5.0, "decision interval in standard deviations (alarm: score >= 1 - e^(-2 k h))", 0.1, 100),
         NumberParam("warmup_cycles", 96, "charted cycles before the first alert; 96 = a day of 15-min cycles", 2,
                     10000)}));

}  // namespace
}  // namespace adsim::monitors
