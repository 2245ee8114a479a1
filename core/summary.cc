#include "core/summary.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <tuple>

#include "core/error.h"

namespace adsim {
namespace {

const Table& Need(const Results& r, const std::string& name) {
  const Table* t = r.Find(name);
  if (!t) throw DataError("result has no '" + name + "' table");
  return *t;
}
template <class T>
const std::vector<T>& Col(const Table& t, const std::string& name) {
  const Column* c = t.Find(name);
  if (!c || !std::holds_alternative<std::vector<T>>(c->data))
    throw DataError("table '" + t.name() + "' has no column '" + name + "' of the expected type");
  return std::get<std::vector<T>>(c->data);
}

}  // namespace

std::vector<CampaignKpis> ComputeKpis(const Results& r) {
  const Table& camps = Need(r, "campaigns");
  const auto& names = Col<std::string>(camps, "name");
  std::vector<CampaignKpis> out(names.size());
  for (size_t i = 0; i < names.size(); ++i) out[i].name = names[i];
  const Table& agg = Need(r, "aggregates");
  const auto& c = Col<int64_t>(agg, "campaign");
  const auto& opp = Col<int64_t>(agg, "opportunities");
  const auto& bids = Col<int64_t>(agg, "bids");
  const auto& imp = Col<int64_t>(agg, "impressions");
  const auto& clk = Col<int64_t>(agg, "clicks");
  const auto& cv = Col<int64_t>(agg, "conversions");
  const auto& val = Col<double>(agg, "conversion_value");
  const auto& sp = Col<double>(agg, "spend");
  for (size_t i = 0; i < c.size(); ++i) {
    if (c[i] < 0 || static_cast<size_t>(c[i]) >= out.size()) throw DataError("aggregates.campaign out of range");
    CampaignKpis& k = out[c[i]];
    k.opportunities += opp[i];
    k.bids += bids[i];
    k.impressions += imp[i];
    k.clicks += clk[i];
    k.conversions += cv[i];
    k.value += val[i];
    k.spend += sp[i];
  }
  const Table& daily = Need(r, "daily");
  const auto& dc = Col<int64_t>(daily, "campaign");
  const auto& db = Col<double>(daily, "daily_budget");
  const auto& tb = Col<double>(daily, "total_budget");
  std::vector<double> last_total(out.size(), INFINITY);
  for (size_t i = 0; i < dc.size(); ++i) {
    if (dc[i] < 0 || static_cast<size_t>(dc[i]) >= out.size()) throw DataError("daily.campaign out of range");
    out[dc[i]].budget_total += db[i];  // infinite if any day had no daily budget
    last_total[dc[i]] = tb[i];
  }
  // What the campaign could have spent: the daily budgets, capped by the total.
  for (size_t c = 0; c < out.size(); ++c) out[c].budget_total = std::min(out[c].budget_total, last_total[c]);
  return out;
}

std::string FormatSummary(const Results& r) {
  std::ostringstream os;
  auto attr = [&r](const char* k) {
    auto it = r.text_attrs.find(k);
    return it == r.text_attrs.end() ? std::string("?") : it->second;
  };
  auto iattr = [&r](const char* k) {
    auto it = r.int_attrs.find(k);
    return it == r.int_attrs.end() ? int64_t{0} : it->second;
  };
  const double wall = r.real_attrs.count("wall_time_s") ? r.real_attrs.at("wall_time_s") : 0.0;
  char line[512];
  std::snprintf(
      line, sizeof line, "scenario %s  seed %s  simulated %.1f h  opportunities %lld  wall %.2f s (%.2f M/s)\n",
      attr("scenario_name").c_str(), attr("seed").c_str(), iattr("duration_us") / 3.6e9,
      static_cast<long long>(iattr("opportunities")), wall, wall > 0 ? iattr("opportunities") / wall / 1e6 : 0.0);
  os << line;
  std::snprintf(line, sizeof line, "%-18s %11s %9s %8s %7s %11s %11s %7s %8s %6s %7s\n", "campaign", "impressions",
                "clicks", "CTR%", "conv", "spend", "value", "CPA", "ROAS", "CPC", "budget%");
  os << line;
  for (const auto& k : ComputeKpis(r)) {
    const double ctr = k.impressions ? 100.0 * k.clicks / k.impressions : 0;
    const double cpa = k.conversions ? k.spend / k.conversions : 0;
    const double roas = k.spend > 0 ? k.value / k.spend : 0;
    const double cpc = k.clicks ? k.spend / k.clicks : 0;
    const double used = std::isfinite(k.budget_total) && k.budget_total > 0 ? 100.0 * k.spend / k.budget_total : NAN;
    std::snprintf(line, sizeof line, "%-18s %11lld %9lld %8.3f %7lld %11.2f %11.2f %7.2f %8.2f %6.3f %7.1f\n",
                  k.name.substr(0, 18).c_str(), static_cast<long long>(k.impressions), static_cast<long long>(k.clicks),
                  ctr, static_cast<long long>(k.conversions), k.spend, k.value, cpa, roas, cpc, used);
    os << line;
  }
  if (const Table* a = r.Find("actions")) {
    const auto& st = Col<std::string>(*a, "status");
    int64_t applied = 0, clamped = 0, held = 0, rejected = 0;
    for (const auto& s : st) {
      applied += s == "applied";
      clamped += s == "clamped";
      held += s == "held";
      rejected += s == "rejected";
    }
    std::snprintf(line, sizeof line, "actions: %lld applied, %lld clamped, %lld held for review, %lld rejected\n",
                  static_cast<long long>(applied), static_cast<long long>(clamped), static_cast<long long>(held),
                  static_cast<long long>(rejected));
    os << line;
  }
  if (const Table* m = r.Find("monitor_scores"); m && m->rows() > 0) {
    const auto& name = Col<std::string>(*m, "monitor");
    const auto& alerts = Col<int64_t>(*m, "alerts");
    const auto& detected = Col<int64_t>(*m, "detected");
    const auto& shocks = Col<int64_t>(*m, "shocks");
    const auto& recall = Col<double>(*m, "recall");
    const auto& precision = Col<double>(*m, "precision");
    const auto& delay = Col<double>(*m, "delay_median_min");
    const auto& delay90 = Col<double>(*m, "delay_p90_min");
    const auto& fa = Col<double>(*m, "false_alarms_per_day");
    std::snprintf(line, sizeof line, "%-18s %7s %9s %7s %9s %11s %11s %12s\n", "monitor", "alerts", "detected",
                  "recall", "precision", "delay_med_m", "delay_p90_m", "false/day");
    os << line;
    for (size_t i = 0; i < name.size(); ++i) {
      std::snprintf(line, sizeof line, "%-18s %7lld %5lld/%-3lld %7.2f %9.2f %11.1f %11.1f %12.2f\n",
                    name[i].substr(0, 18).c_str(), static_cast<long long>(alerts[i]),
                    static_cast<long long>(detected[i]), static_cast<long long>(shocks[i]), recall[i], precision[i],
                    delay[i], delay90[i], fa[i]);
      os << line;
    }
  }
  if (const Table* o = r.Find("oracle"); o && o->rows() > 0) {
    const auto& names = Col<std::string>(*r.Find("campaigns"), "name");
    const auto& camp = Col<int64_t>(*o, "campaign");
    const auto& on = Col<double>(*o, "oracle_conversions");
    const auto& ov = Col<double>(*o, "oracle_value");
    const auto& os_ = Col<double>(*o, "oracle_spend");
    const auto& rn = Col<double>(*o, "regret_conversions");
    const auto& rv = Col<double>(*o, "regret_value");
    // The regret also as a share of what the oracle reached (regret / oracle,
    // in %: 0 matches the oracle, 100 reaches nothing, negative beats it), so
    // campaigns of different sizes compare; n/a when the oracle reached none.
    auto share = [](double regret, double oracle) {
      char cell[32];
      if (oracle > 0)
        std::snprintf(cell, sizeof cell, "%.1f%%", 100.0 * regret / oracle);
      else
        std::snprintf(cell, sizeof cell, "n/a");
      return std::string(cell);
    };
    std::snprintf(line, sizeof line, "%-18s %12s %12s %12s %12s %12s %12s %12s\n", "oracle regret", "oracle_conv",
                  "oracle_value", "oracle_spend", "regret_conv", "regret_value", "regret_conv%", "regret_val%");
    os << line;
    for (size_t i = 0; i < camp.size(); ++i) {
      std::snprintf(line, sizeof line, "%-18s %12.0f %12.2f %12.2f %12.0f %12.2f %12s %12s\n",
                    names.at(camp[i]).substr(0, 18).c_str(), on[i], ov[i], os_[i], rn[i], rv[i],
                    share(rn[i], on[i]).c_str(), share(rv[i], ov[i]).c_str());
      os << line;
    }
  }
  if (const Table* l = r.Find("experiment_looks"); l && l->rows() > 0) {
    const auto& ex = Col<std::string>(*l, "experiment");
    const auto& an = Col<std::string>(*l, "analysis");
    const auto& arm = Col<int64_t>(*l, "arm");
    const auto& look = Col<int64_t>(*l, "look");
    const auto& dec = Col<std::string>(*l, "decision");
    const auto& z = Col<double>(*l, "statistic");
    const auto& info = Col<double>(*l, "information");
    const auto& t = Col<int64_t>(*l, "time");
    // Schema 2 columns (absent from version 1 files).
    const bool v2 = l->Find("unit") != nullptr;
    // The last look of each (experiment, analysis, arm).
    std::map<std::tuple<std::string, std::string, int64_t>, size_t> last;
    for (size_t i = 0; i < ex.size(); ++i) last[{ex[i], an[i], arm[i]}] = i;
    std::snprintf(line, sizeof line, "%-14s %-12s %4s %5s %9s %8s %7s %-7s %9s  %s\n", "experiment", "analysis", "arm",
                  "looks", "at_hour", "info", "z", "unit", "var_ratio", "decision");
    os << line;
    for (const auto& [key, i] : last) {
      std::snprintf(line, sizeof line, "%-14s %-12s %4lld %5lld %9.2f %8.2f %7.2f %-7s %9.3f  %s\n",
                    ex[i].substr(0, 14).c_str(), an[i].substr(0, 12).c_str(), static_cast<long long>(arm[i]),
                    static_cast<long long>(look[i]), t[i] / 3.6e9, info[i], z[i],
                    v2 ? Col<std::string>(*l, "unit")[i].c_str() : "request",
                    v2 ? Col<double>(*l, "variance_ratio")[i] : 1.0, dec[i].c_str());
      os << line;
    }
  }
  os << "fingerprint " << attr("fingerprint") << "  adsim " << attr("adsim_version") << "  schema "
     << iattr("schema_version") << "  boost " << attr("boost_version") << "\n";
  return os.str();
}

}  // namespace adsim
