// The synthetic and the log replay user responses (user_response.h).
// May not touch: counters, budgets, the event heap, results tables.
#include "core/engine/user_response.h"

#include <algorithm>
#include <boost/random/exponential_distribution.hpp>
#include <boost/random/normal_distribution.hpp>
#include <cmath>

#include "core/random.h"

namespace adsim::engine {

Response SyntheticResponse::Respond(const Opportunity& opportunity, const Win& win) {
  Response response;
  double true_ctr = state_.true_ctr[win.cell];
  if (state_.HasFatigue(win.cell)) {
    FatigueState& fatigue = state_.fatigue[state_.fatigue_index[win.cell]];
    true_ctr *= fatigue.Factor(opportunity.time);  // exposures before this impression
    fatigue.Expose();
  }
  const double click_probability = true_ctr * state_.ctr_multiplier[win.channel_segment] * opportunity.Propensity() *
                                   state_.scenario.channels[opportunity.channel].click_factors[win.slot];
  ResponseRng rng(opportunity.response_key, win.slot);
  response.click = rng.Uniform() < click_probability;
  // With journeys, conversions come from the user's hazard (journeys.h), not from the click.
  if (!response.click || state_.scenario.journeys) return response;
  if (state_.scenario.funnel) {
    const size_t cell_stage = static_cast<size_t>(win.cell) * kFunnelStages;
    const size_t shock_stage = static_cast<size_t>(win.channel_segment) * kFunnelStages;
    for (int stage = 0; stage < kFunnelStages; ++stage) {
      double rate = state_.funnel_rate[cell_stage + stage] * state_.funnel_multiplier[shock_stage + stage];
      if (stage == kPurchase) rate *= state_.cvr_multiplier[win.channel_segment];
      if (!(rng.Uniform() < rate)) return response;
      response.funnel_stages = stage + 1;
    }
  } else {
    double conversion_probability = state_.true_cvr[win.cell] * state_.cvr_multiplier[win.channel_segment];
    // With users.conversion, the user's public features shift the rate on the logit scale (user_features.h).
    if (!state_.users.conversion_shift.empty())
      conversion_probability =
          state_.users.ConversionProbability(conversion_probability, opportunity.segment, opportunity.user);
    if (!(rng.Uniform() < conversion_probability)) return response;
  }
  response.converts = true;
  // Delay, value and reporting draws continue the opportunity's response stream.
  const SegmentSpec& segment = state_.scenario.segments[opportunity.segment];
  boost::random::normal_distribution<double> normal(0.0, 1.0);
  boost::random::exponential_distribution<double> exponential(1.0);
  double delay_us;
  switch (segment.delay_dist) {
    case DelayDist::kFixed:
      delay_us = static_cast<double>(segment.delay_mean);
      break;
    case DelayDist::kExponential:
      delay_us = static_cast<double>(segment.delay_mean) * exponential(rng);
      break;
    case DelayDist::kLognormal:
    default:
      delay_us = static_cast<double>(segment.delay_mean) * std::exp(segment.delay_sigma * normal(rng));
      break;
  }
  double value = segment.value_mean;
  if (segment.value_dist == ValueDist::kLognormal)  // mean-preserving: E[value] = value_mean
    value = segment.value_mean *
            std::exp(segment.value_sigma * normal(rng) - 0.5 * segment.value_sigma * segment.value_sigma);
  response.delay_us = delay_us;
  response.value = value;
  response.tracking_draw = rng.Uniform();
  return response;
}

ReplayResponse::ReplayResponse(const std::vector<int>& creatives_per_campaign, UserResponse& synthetic)
    : synthetic_(synthetic) {
  int offset = 0;
  for (int creatives : creatives_per_campaign) {
    creative_offset_.push_back(offset);
    offset += creatives;
  }
}

Response ReplayResponse::Respond(const Opportunity& opportunity, const Win& win) {
  const LoggedOutcome* logged = opportunity.logged;
  if (!logged) return synthetic_.Respond(opportunity, win);  // a synthetic channel beside replayed ones
  Response response;
  if (logged->modelled) {
    ++wins_modelled_;
    if (!logged->model) return response;
    // The fill-in model of the creative that won: click, conversion,
    // exponential delay with the logged mean (at least 1 us), the mean logged
    // value, drawn from the request's own key (common random numbers: two
    // strategies winning the request with the same creative see the same outcome).
    const ModelledRates& rates = logged->model[creative_offset_[win.campaign] + win.creative];
    ResponseRng rng(opportunity.response_key, 0);
    response.click = rng.Uniform() < rates.ctr;
    if (!response.click || !(rng.Uniform() < rates.cvr)) return response;
    boost::random::exponential_distribution<double> exponential(1.0);
    response.converts = true;
    response.delay_us =
        static_cast<double>(std::max<SimTime>(1, static_cast<SimTime>(rates.mean_delay_us * exponential(rng))));
    response.value = rates.mean_value;
    return response;
  }
  ++wins_logged_;
  response.click = logged->click;
  if (!response.click || logged->conversion_time < 0) return response;
  response.converts = true;
  // The engine schedules the conversion at click time + delay: the logged time
  // (the 1 us minimum moves a conversion logged at the click's own time by 1 us).
  response.delay_us = static_cast<double>(logged->conversion_time - opportunity.time);
  response.value = logged->conversion_value;
  response.tracking_draw = 0.0;  // reported unless a conversion_tracking shock stops all tracking
  return response;
}

}  // namespace adsim::engine
