// kpi_seasonal: an hour-of-week (or hour-of-day) baseline with a robust
// z-score (median and 1.4826 MAD of the same slot in past seasons) on a KPI
// per campaign x channel (x segment): it expects the weekly rhythm of traffic.
#include "strategies/monitors/lib/kpi_series.h"

namespace adsim::monitors {
namespace {

class KpiSeasonal final : public monitors::KpiMonitor {
 public:
  explicit KpiSeasonal(const BuildContext& ctx) : KpiMonitor(ctx) {
    params_.period = ctx.params.String("period") == "week" ? 168 : 24;
    params_.min_seasons = static_cast<int>(ctx.params.Number("min_seasons"));
    params_.max_seasons = static_cast<int>(ctx.params.Number("max_seasons"));
    params_.threshold = ctx.params.Number("threshold");
    params_.side = monitors::SideParam(ctx.params);
    if (params_.max_seasons < params_.min_seasons)
      throw ConfigError({{ctx.scenario->source_name, ctx.where + ".params.max_seasons", 0,
                          "at least min_seasons (" + std::to_string(params_.min_seasons) + ")",
                          std::to_string(params_.max_seasons)}});
    MakeDetector();  // its own checks now, not at the first observation days into the run
  }

 private:
  struct D final : Detector {
    explicit D(const monitors::SeasonalParams& p) : baseline(p), period(p.period) {}
    monitors::DetectorResult Update(const monitors::KpiObservation& o, int hour_of_week) override {
      return baseline.Update(o.value, hour_of_week % period);
    }
    monitors::SeasonalBaseline baseline;
    int period;
  };
  std::unique_ptr<Detector> MakeDetector() const override { return std::make_unique<D>(params_); }
  std::string Describe() const override { return "robust z beyond " + FormatNumber(params_.threshold); }
  monitors::SeasonalParams params_;
};

ADSIM_REGISTER_MONITOR(
    KpiSeasonal, "kpi_seasonal", "Seasonal baseline (hour of day or week) with a robust z-score on a KPI.",
    monitors::KpiParams({StringParam("period", "day", "season: hour of the day or of the week", {"day", "week"}),
                         NumberParam("min_seasons", 8, "past values of the slot needed before alerting", 2, 1000),
                         NumberParam("max_seasons", 16, "past values of the slot kept", 2, 1000),
                         NumberParam("threshold", 5.0, "robust z that alerts", 0.5, 100)},
                        "both"));

}  // namespace
}  // namespace adsim::monitors
