// kpi_cusum: a standardised CUSUM (Page 1954) on a KPI per campaign x channel
// (x segment), fed once per control cycle with the last cycle's counts; the
// in-control level is estimated over a warm-up; the sums reset after an alarm.
#include "strategies/monitors/lib/kpi_series.h"

namespace adsim::monitors {
namespace {

class KpiCusum final : public monitors::KpiMonitor {
 public:
  explicit KpiCusum(const BuildContext& ctx) : KpiMonitor(ctx) {
    params_.k = ctx.params.Number("k");
    params_.h = ctx.params.Number("h");
    params_.warmup = static_cast<int>(ctx.params.Number("warmup_cycles"));
    params_.side = monitors::SideParam(ctx.params);
    MakeDetector();  // its own checks now, not at the first observation days into the run
  }

 private:
  struct D final : Detector {
    explicit D(const monitors::CusumParams& p) : cusum(p) {}
    monitors::DetectorResult Update(const monitors::KpiObservation& o, int) override {
      return o.rate ? cusum.UpdateRate(o.successes, o.trials) : cusum.Update(o.value);
    }
    monitors::Cusum cusum;
  };
  std::unique_ptr<Detector> MakeDetector() const override { return std::make_unique<D>(params_); }
  std::string Describe() const override { return "CUSUM reached h = " + FormatNumber(params_.h); }
  monitors::CusumParams params_;
};

ADSIM_REGISTER_MONITOR(
    KpiCusum, "kpi_cusum",
    "CUSUM on a KPI (a rate such as ctr, or a per-cycle level) per campaign x channel (x segment).",
    monitors::KpiParams(
        {NumberParam("k", 0.5, "reference value in standard deviations (half the shift to detect)", 0, 10),
         NumberParam("h", 5.0, "decision interval in standard deviations", 0.1, 100),
         NumberParam("warmup_cycles", 96,
                     "charted cycles used to estimate the in-control level (and sd); 96 = a day of 15-min cycles", 2,
                     10000)}));

}  // namespace
}  // namespace adsim::monitors
