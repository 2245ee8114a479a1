#include "simulators/synthetic.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace adsim {

void AliasTable::Build(const std::vector<double>& weights) {
  const size_t n = weights.size();
  prob_.assign(n, 0.0);
  alias_.assign(n, 0);
  double total = 0;
  for (double w : weights) total += w;
  if (n == 0) return;
  if (total <= 0) {  // no weight anywhere: uniform (never drawn while the rate is zero)
    for (size_t i = 0; i < n; ++i) {
      prob_[i] = 1.0;
      alias_[i] = static_cast<int>(i);
    }
    return;
  }
  std::vector<double> scaled(n);
  std::vector<int> small, large;
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = weights[i] * static_cast<double>(n) / total;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<int>(i));
  }
  while (!small.empty() && !large.empty()) {
    const int s = small.back(), l = large.back();
    small.pop_back();
    prob_[s] = scaled[s];
    alias_[s] = l;
    scaled[l] = (scaled[l] + scaled[s]) - 1.0;
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  for (int i : large) {
    prob_[i] = 1.0;
    alias_[i] = i;
  }
  for (int i : small) {
    prob_[i] = 1.0;
    alias_[i] = i;
  }  // rounding leftovers
}

MaxNormalQuantile::MaxNormalQuantile(int k) : k_(k) {
  auto table = std::make_shared<std::vector<double>>(kCells + 1);
  for (int i = 0; i <= kCells; ++i) (*table)[i] = Exact(std::clamp(static_cast<double>(i) / kCells, 1e-300, 1 - 1e-16));
  storage_ = std::move(table);
  table_ = storage_->data();
  // Linear interpolation error is h^2/8 |z''|; |z''| grows fast towards both
  // ends, so the outer 1/128 on each side (1.6% of the draws) is computed
  // exactly, which bounds the table's error by 1.5e-5 in z (a test checks it).
  lo_ = 1.0 / 128;
  hi_ = 1.0 - 1.0 / 128;
}

double MaxNormalQuantile::Exact(double u) const { return InvNormalCdf(k_ == 1 ? u : std::exp(std::log(u) / k_)); }

SyntheticMarket::SyntheticMarket(const Scenario& scenario, uint64_t seed) : scenario_(scenario) {
  const int nc = static_cast<int>(scenario.channels.size());
  const int ns = static_cast<int>(scenario.segments.size());
  conditions_.num_segments = ns;
  conditions_.traffic.assign(static_cast<size_t>(nc) * ns, 1.0);
  conditions_.competing_bids.assign(static_cast<size_t>(nc) * ns, 1.0);
  propensity_.resize(ns);
  for (int s = 0; s < ns; ++s) {
    const SegmentSpec& seg = scenario.segments[s];
    if (seg.propensity_sigma <= 0) continue;
    // Mean-one lognormal multipliers, fixed per user for the whole run.
    Stream users(seed, "market/segments/" + seg.name + "/users");
    const double sg = seg.propensity_sigma;
    propensity_[s].resize(static_cast<size_t>(seg.users));
    for (auto& p : propensity_[s]) p = static_cast<float>(std::exp(sg * users.Normal() - 0.5 * sg * sg));
  }
  channels_.resize(nc);
  std::map<int, MaxNormalQuantile> top_by_k;  // one shared table per distinct K
  for (int c = 0; c < nc; ++c) {
    ChannelState& ch = channels_[c];
    ch.spec = &scenario.channels[c];
    const std::string base = "market/channels/" + ch.spec->name;
    ch.arrivals = Stream(seed, base + "/arrivals");
    ch.competition = Stream(seed, base + "/competition");
    ch.response = Stream(seed, base + "/response");
    auto top = top_by_k.find(ch.spec->competitors);
    if (top == top_by_k.end())
      top = top_by_k.emplace(ch.spec->competitors, MaxNormalQuantile(ch.spec->competitors)).first;
    ch.top = top->second;
    ch.mu.resize(ns);
    ch.sigma.resize(ns);
    for (int s = 0; s < ns; ++s) {
      const auto& over = scenario.segments[s].competition[c];
      ch.mu[s] = over ? over->first : ch.spec->bid_mu;
      ch.sigma[s] = over ? over->second : ch.spec->bid_sigma;
    }
  }
  OnConditionsChanged(0, conditions_);
}

double SyntheticMarket::RatePerHour(int channel, SimTime t) const {
  const ChannelState& ch = channels_[channel];
  const SimTime abs = t + scenario_.start_offset_in_day;
  const int hour = static_cast<int>((abs / kMicrosPerHour) % 24);
  const int weekday = static_cast<int>((scenario_.start_weekday + abs / kMicrosPerDay) % 7);
  return ch.spec->per_hour * ch.spec->hour_of_day[hour] * ch.spec->day_of_week[weekday] * ch.traffic_mult;
}

void SyntheticMarket::StartPiece(ChannelState& ch, int index, double t) {
  // Pieces are whole clock hours: the rate is constant inside one.
  const SimTime ti = static_cast<SimTime>(std::floor(t));
  const SimTime abs = ti + scenario_.start_offset_in_day;
  ch.piece_end = static_cast<double>((abs / kMicrosPerHour + 1) * kMicrosPerHour - scenario_.start_offset_in_day);
  ch.rate_per_us = RatePerHour(index, ti) / static_cast<double>(kMicrosPerHour);
  ch.mean_gap_us = ch.rate_per_us > 0 ? 1.0 / ch.rate_per_us : 0.0;
}

void SyntheticMarket::DrawNext(ChannelState& ch, int index, double from) {
  // Exact non-homogeneous Poisson arrivals with a piecewise-constant rate: by
  // memorylessness, a gap that crosses the end of a piece is redrawn from the
  // boundary with the next piece's rate. The caller has started the piece
  // that contains `from`. The loop goes on until an arrival falls inside a
  // piece, and stops at the end of the run: nobody asks for an arrival at or
  // after `duration`, while a tiny rate (1e-10 per hour, or a 1e-12 traffic
  // shock) would otherwise step through billions of pieces to its far-away
  // arrival and overflow the clock on the way. A change of conditions before
  // the end redraws the arrival from that time (OnConditionsChanged). It also
  // gives up after a whole week of consecutive pieces with a zero rate (then
  // no arrival can ever come under the current conditions).
  const double end = static_cast<double>(scenario_.duration);
  int zero_pieces = 0;
  while (zero_pieces <= 24 * 7 && from < end) {
    if (ch.rate_per_us > 0) {
      zero_pieces = 0;
      const double t = from + ch.arrivals.Exponential() * ch.mean_gap_us;
      if (t < ch.piece_end) {
        ch.next_time = t;
        ch.next_int = static_cast<SimTime>(t);
        return;
      }
    } else {
      ++zero_pieces;
    }
    from = ch.piece_end;
    StartPiece(ch, index, from);
  }
  // No arrival before the end of the run, or no traffic at any hour of the
  // week under the current conditions: wait for a change.
  ch.next_time = std::numeric_limits<double>::infinity();
  ch.next_int = kNever;
}

void SyntheticMarket::OnConditionsChanged(SimTime now, const MarketConditions& conditions) {
  const MarketConditions old = conditions_;
  conditions_ = conditions;
  const int ns = conditions_.num_segments;
  std::vector<double> w(ns);
  for (size_t c = 0; c < channels_.size(); ++c) {
    ChannelState& ch = channels_[c];
    // Only a change of this channel's traffic redraws its pending arrival:
    // a shock on click rates or competing bids leaves the opportunity stream
    // exactly as it would have been.
    const auto first = static_cast<long>(c * ns), last = static_cast<long>((c + 1) * ns);
    if (started_ &&
        std::equal(old.traffic.begin() + first, old.traffic.begin() + last, conditions_.traffic.begin() + first))
      continue;
    double base = 0, shocked = 0;
    for (int s = 0; s < ns; ++s) {
      const double share = scenario_.segments[s].share[c];
      w[s] = share * conditions_.traffic[c * ns + s];
      base += share;
      shocked += w[s];
    }
    ch.traffic_mult = base > 0 ? shocked / base : 0.0;
    ch.segments.Build(w);
    StartPiece(ch, static_cast<int>(c), static_cast<double>(now));
    DrawNext(ch, static_cast<int>(c), static_cast<double>(now));
  }
  started_ = true;
}

void SyntheticMarket::Fill(ChannelState& ch, int index, Opportunity& o) {
  o.time = ch.next_int;
  o.channel = index;
  const int s = ch.segments.Draw(ch.arrivals.Uniform());
  o.segment = s;
  const SegmentSpec& seg = scenario_.segments[s];
  o.user = ch.arrivals.Below(static_cast<uint32_t>(seg.users));
  o.propensity = propensity_[s].empty() ? nullptr : propensity_[s].data() + o.user;  // read only if needed
  o.response_key = ch.response.engine()();
  // Top order statistics of K iid lognormal competitor bids, drawn directly
  // by inversion, at a cost O(slots) rather than O(K): the largest of K iid
  // uniforms has CDF u^K, so it is U^(1/K) for one uniform U (the tabulated
  // MaxNormalQuantile maps U straight to the normal quantile); the j-th
  // largest given the (j-1)-th, u_(j-1), is u_(j-1) * V^(1/(K-j+1)).
  const int k = ch.spec->competitors;
  const int slots = ch.spec->slots;
  const double mu = ch.mu[s], sigma = ch.sigma[s];
  const double mult = conditions_.competing_bids[index * conditions_.num_segments + s];
  // The bids are kept as logarithms (before the shock multiplier): the
  // engine exponentiates them only when one of our campaigns bids
  // (Opportunity::CompetingBid), the same doubles computed the same way.
  const double u1 = ch.competition.Uniform();
  o.competing_as_logs = true;
  o.competing_scale = mult;
  o.competing[0] = mu + sigma * ch.top(u1);
  if (slots > 1) {
    double log_u = std::log(u1) / k;
    for (int j = 1; j < slots; ++j) {
      if (j >= k) {
        o.competing[j] = -std::numeric_limits<double>::infinity();  // no such competitor: a bid of 0
        continue;
      }
      log_u += std::log(ch.competition.Uniform()) / static_cast<double>(k - j);
      o.competing[j] = mu + sigma * InvNormalCdf(std::exp(log_u));
    }
  }
}

size_t SyntheticMarket::Generate(SimTime until, Opportunity* out, size_t max) {
  size_t n = 0;
  const int nc = static_cast<int>(channels_.size());
  while (n < max) {
    int best = -1;
    SimTime best_t = until;
    for (int c = 0; c < nc; ++c)
      if (channels_[c].next_int < best_t) {
        best_t = channels_[c].next_int;
        best = c;
      }
    if (best < 0) break;
    ChannelState& ch = channels_[best];
    Fill(ch, best, out[n++]);
    DrawNext(ch, best, ch.next_time);
  }
  return n;
}

ADSIM_REGISTER_MARKET("synthetic",
                      "per channel, Poisson arrivals following the hour-of-day and day-of-week profiles, users from "
                      "finite segment populations, K lognormal competitor bids",
                      SyntheticMarket);

}  // namespace adsim
