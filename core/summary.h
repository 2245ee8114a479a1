// A short human-readable KPI summary of a run, shared by `adsim run` and
// `adsim summary`.
#pragma once

#include <string>

#include "core/results.h"

namespace adsim {

struct CampaignKpis {
  std::string name;
  int64_t opportunities = 0, bids = 0, impressions = 0, clicks = 0, conversions = 0;
  double spend = 0, value = 0;
  double budget_total = 0;  // what it could spend: sum of daily budgets capped by the total (inf if none)
};

std::vector<CampaignKpis> ComputeKpis(const Results& results);
std::string FormatSummary(const Results& results);

}  // namespace adsim
