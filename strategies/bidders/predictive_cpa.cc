// predictive_cpa: bids on each user's predicted conversion probability, from
// a model over the users' public features (docs/audiences.md):
//   pCVR(user) = sigmoid(intercept + coefficients . features(user))
//   impression-billed channel: bid = T * pCTR * pCVR(user)
//   click-billed channel:      bid = T * pCVR(user)
// T = the `target_cpa` parameter if > 0, else the campaign's goal value when
// its goal is a CPA. pCTR per channel x segment is the campaign's observed
// click rate with a Beta(ctr_alpha, ctr_beta) prior; a cell bids the base bid
// until it has min_impressions impressions. Without T, or for a request
// without features, it bids the base bid (like `fixed`).
//
// Where the model comes from (`learning`):
// - offline: one of the scenario's `audiences` (param `model`), e.g. a
//   lookalike fit (adsim.lookalike) of a previous run, fixed for the run.
// - online: refitted each control cycle (never per opportunity: Bid() only
//   reads the coefficients) from what the advertiser has observed per user so
//   far (core/user_observations.h): rows = users with a click, trials = their
//   clicks, successes = their conversions reported by now, by the project's
//   L2 logistic fitter (strategies/bidders/lib/logistic_model.h) with its
//   prior centred on the pooled rate
//     (cvr_alpha + reported conversions) / (cvr_alpha + cvr_beta + trials)
//   (intercept) and 0 (features), so with no evidence it bids the pooled
//   rate. Censoring: a click whose conversion is not reported yet counts as
//   a trial without success unless `conversion_delay_hours` m > 0, in which
//   case each user's trials are its clicks less the expected pending ones
//   (the value bidders' exponential correction, per user):
//     pending <- pending * exp(-dt / m) + new clicks * (m / dt) (1 - exp(-dt / m))
//   each cycle of length dt. The exploration floor of the value bidders
//   holds: a cell bids at least explore_bid_share x the base bid while the
//   relative half-width of the 95 % interval of its value per billing unit
//   (pCTR from the cell's impressions, pCVR from the segment's users' trials,
//   combined in quadrature) exceeds explore_until_width.
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/registry.h"
#include "core/user_observations.h"
#include "strategies/bidders/lib/logistic_model.h"

namespace adsim::bidders {
namespace {

class PredictiveCpa final : public Bidder, public UserOutcomeLearner {
 public:
  explicit PredictiveCpa(const BuildContext& ctx)
      : target_(ctx.params.Number("target_cpa")),
        ctr_alpha_(ctx.params.Number("ctr_alpha")),
        ctr_beta_(ctx.params.Number("ctr_beta")),
        min_impressions_(ctx.params.Number("min_impressions")),
        online_(ctx.params.String("learning") == "online"),
        cvr_alpha_(ctx.params.Number("cvr_alpha")),
        cvr_beta_(ctx.params.Number("cvr_beta")),
        delay_hours_(ctx.params.Number("conversion_delay_hours")),
        explore_share_(ctx.params.Number("explore_bid_share")),
        explore_width_(ctx.params.Number("explore_until_width")),
        num_segments_(static_cast<int>(ctx.scenario->segments.size())),
        feature_count_(ctx.scenario->user_feature_count),
        ctr_(ctx.scenario->channels.size() * ctx.scenario->segments.size(), -1.0),
        exploring_(ctr_.size(), 0),
        model_(feature_count_ + 1, ctx.params.Number("l2")) {
    for (const auto& channel : ctx.scenario->channels) click_billed_.push_back(channel.billing == Billing::kClick);
    const std::string& model = ctx.params.String("model");
    if (online_) {
      if (!model.empty())
        throw ConfigError({{ctx.scenario->source_name, ctx.where + ".params.model", 0,
                            "no model with learning: online (the online model starts from the pooled conversion "
                            "rate and learns from the run's reported conversions)",
                            "'" + model + "'"}});
      if (feature_count_ > 0) {
        coefficients_.assign(static_cast<size_t>(feature_count_), 0.0);
        intercept_ = estimators::LogisticModel::Logit(cvr_alpha_ / (cvr_alpha_ + cvr_beta_));
      }
      return;
    }
    if (model.empty()) return;
    std::vector<std::string> names;
    for (const AudienceSpec& audience : ctx.scenario->audiences) {
      names.push_back(audience.name);
      if (audience.name == model) {
        if (audience.lookalike)
          throw ConfigError({{ctx.scenario->source_name, ctx.where + ".params.model", 0,
                              "an audience with a given model (intercept, coefficients); '" + model +
                                  "' is a lookalike fitted during the run (use learning: online to learn in the run)",
                              "'" + model + "'"}});
        intercept_ = audience.intercept;
        coefficients_ = audience.coefficients;
      }
    }
    if (coefficients_.empty()) {
      std::string valid;
      for (const auto& name : names) valid += (valid.empty() ? "'" : ", '") + name + "'";
      throw ConfigError({{ctx.scenario->source_name, ctx.where + ".params.model", 0,
                          "the name of one of the scenario's audiences (its intercept and coefficients are the model)" +
                              (valid.empty() ? std::string(": the scenario has none") : ", one of " + valid),
                          "'" + model + "'"}});
    }
  }

  double Bid(const BidRequest& request, const CampaignState& state) override {
    const double target = target_ > 0 ? target_ : (state.goal == GoalKind::kCpa ? state.goal_value : 0.0);
    if (!(target > 0) || coefficients_.empty() || request.features == nullptr) return state.bid;
    double score = intercept_;
    for (size_t k = 0; k < coefficients_.size(); ++k) score += coefficients_[k] * request.features[k];
    const double conversion_probability = estimators::LogisticModel::Sigmoid(score);
    const int cell = request.channel * num_segments_ + request.segment;
    double bid = 0;
    if (click_billed_[request.channel]) {
      bid = target * conversion_probability;
    } else {
      const double ctr = ctr_[cell];
      if (ctr < 0) return state.bid;  // too few impressions yet
      bid = target * ctr * conversion_probability;
    }
    if (exploring_[cell] != 0) bid = std::max(bid, explore_share_ * state.bid);
    return bid;
  }

  void OnCycle(const Snapshot& snap, int campaign) override {
    for (int channel = 0; channel < snap.num_channels; ++channel)
      for (int segment = 0; segment < snap.num_segments; ++segment) {
        double impressions = 0, clicks = 0;
        for (int creative = 0; creative < snap.num_creatives[campaign]; ++creative) {
          const ObservedStats& cell = snap.total[snap.Cell(campaign, channel, segment, creative)];
          impressions += static_cast<double>(cell.impressions);
          clicks += static_cast<double>(cell.clicks);
        }
        const int index = channel * num_segments_ + segment;
        ctr_[index] =
            impressions < min_impressions_ ? -1.0 : (ctr_alpha_ + clicks) / (ctr_alpha_ + ctr_beta_ + impressions);
        if (!online_ || !(explore_share_ > 0) || ctr_[index] < 0 || segment_trials_.empty()) continue;
        // 95 % interval of the value per billing unit, relative: pCTR (the
        // cell's impressions; not on click-billed channels) and pCVR (the
        // segment's users' trials) combined in quadrature.
        const double ctr = ctr_[index], ctr_weight = ctr_alpha_ + ctr_beta_ + impressions;
        const double ctr_width = click_billed_[channel] ? 0.0 : 1.96 * std::sqrt(ctr * (1 - ctr) / ctr_weight) / ctr;
        const double cvr_weight = cvr_alpha_ + cvr_beta_ + segment_trials_[segment];
        const double cvr = (cvr_alpha_ + segment_successes_[segment]) / cvr_weight;
        const double cvr_width = 1.96 * std::sqrt(cvr * (1 - cvr) / cvr_weight) / cvr;
        exploring_[index] = std::hypot(ctr_width, cvr_width) > explore_width_ ? 1 : 0;
      }
  }

  bool LearnsFromUsers() const override { return online_ && feature_count_ > 0; }

  void OnUserObservations(const UserObservations& users, int campaign) override {
    (void)campaign;
    refitted_ = false;
    const int dimension = feature_count_ + 1;
    if (users.feature_count != feature_count_) return;
    if (first_user_.empty()) {  // first call: lay out one slot per user of every segment
      int64_t total = 0;
      for (const auto& segment : users.segments) {
        first_user_.push_back(total);
        total += segment.users;
      }
      seen_clicks_.assign(static_cast<size_t>(total), 0);
      pending_.assign(static_cast<size_t>(total), 0.0);
      segment_trials_.assign(users.segments.size(), 0.0);
      segment_successes_.assign(users.segments.size(), 0.0);
    }
    // The censoring correction's decay over the cycle just ended.
    const double elapsed_hours = static_cast<double>(users.time - last_time_) / static_cast<double>(kMicrosPerHour);
    last_time_ = users.time;
    double decay = 1.0, cohort = 0.0;
    if (delay_hours_ > 0 && elapsed_hours > 0) {
      decay = std::exp(-elapsed_hours / delay_hours_);
      cohort = delay_hours_ / elapsed_hours * (1.0 - decay);
    }
    double trials_total = 0, successes_total = 0;
    for (size_t s = 0; s < users.segments.size(); ++s) {
      const UserObservations::Segment& segment = users.segments[s];
      double segment_trials = 0, segment_successes = 0;
      for (int64_t user = 0; user < segment.users; ++user) {
        const int32_t clicks = segment.clicks[user];
        const auto slot = static_cast<size_t>(first_user_[s] + user);
        if (clicks == 0) continue;
        if (seen_clicks_[slot] == 0) rows_.push_back({static_cast<int>(s), user});  // first click: a new row
        pending_[slot] = pending_[slot] * decay + static_cast<double>(clicks - seen_clicks_[slot]) * cohort;
        seen_clicks_[slot] = clicks;
        const double conversions = segment.conversions[user];
        segment_trials += std::max(conversions, static_cast<double>(clicks) - pending_[slot]);
        segment_successes += conversions;
      }
      segment_trials_[s] = segment_trials;
      segment_successes_[s] = segment_successes;
      trials_total += segment_trials;
      successes_total += segment_successes;
    }
    if (rows_.empty()) return;
    // One row per clicker, in the order of their first click (deterministic).
    x_.resize(static_cast<Eigen::Index>(rows_.size()), dimension);
    trials_.resize(x_.rows());
    successes_.resize(x_.rows());
    for (Eigen::Index j = 0; j < x_.rows(); ++j) {
      const Row& row = rows_[static_cast<size_t>(j)];
      const UserObservations::Segment& segment = users.segments[static_cast<size_t>(row.segment)];
      const auto slot = static_cast<size_t>(first_user_[static_cast<size_t>(row.segment)] + row.user);
      x_(j, 0) = 1.0;
      const float* features = segment.features + row.user * feature_count_;
      for (int k = 0; k < feature_count_; ++k) x_(j, k + 1) = features[k];
      successes_[j] = segment.conversions[row.user];
      trials_[j] = std::max(successes_[j], static_cast<double>(segment.clicks[row.user]) - pending_[slot]);
    }
    // The prior: centred on the pooled rate (intercept) and 0 (features).
    Eigen::VectorXd centre = Eigen::VectorXd::Zero(dimension);
    centre[0] =
        estimators::LogisticModel::Logit((cvr_alpha_ + successes_total) / (cvr_alpha_ + cvr_beta_ + trials_total));
    model_.SetPrior(centre);
    fit_.iterations = model_.Fit(x_, trials_, successes_);
    const Eigen::VectorXd& w = model_.coefficients();
    if (!w.allFinite()) return;  // keep the previous model
    intercept_ = w[0];
    for (int k = 0; k < feature_count_; ++k) coefficients_[static_cast<size_t>(k)] = w[k + 1];
    const Eigen::MatrixXd covariance = model_.Covariance();
    fit_.coefficients.assign(w.data(), w.data() + dimension);
    fit_.standard_errors.resize(static_cast<size_t>(dimension));
    for (int k = 0; k < dimension; ++k) fit_.standard_errors[static_cast<size_t>(k)] = std::sqrt(covariance(k, k));
    fit_.users = static_cast<int64_t>(rows_.size());
    fit_.trials = trials_total;
    fit_.successes = successes_total;
    refitted_ = true;
  }

  bool LastModelFit(ModelFit* fit) const override {
    if (!refitted_) return false;
    *fit = fit_;
    return true;
  }

 private:
  struct Row {
    int segment;
    int64_t user;
  };

  double target_, ctr_alpha_, ctr_beta_, min_impressions_;
  bool online_;
  double cvr_alpha_, cvr_beta_, delay_hours_, explore_share_, explore_width_;
  int num_segments_, feature_count_;
  double intercept_ = 0.0;
  std::vector<double> coefficients_;
  std::vector<double> ctr_;      // per channel x segment; -1 = not enough impressions
  std::vector<char> exploring_;  // per channel x segment: the exploration floor holds (online only)
  std::vector<bool> click_billed_;
  // Online learning's state: per user of every segment (slot = first_user_[segment] + user).
  estimators::LogisticModel model_;
  std::vector<int64_t> first_user_;
  std::vector<int32_t> seen_clicks_;
  std::vector<double> pending_;  // expected clicks whose conversion is not reported yet
  std::vector<double> segment_trials_, segment_successes_;
  std::vector<Row> rows_;  // users with a click, in the order of their first click
  SimTime last_time_ = 0;
  Eigen::MatrixXd x_;
  Eigen::VectorXd trials_, successes_;
  ModelFit fit_;
  bool refitted_ = false;
};

ADSIM_REGISTER_BIDDER(
    PredictiveCpa, "predictive_cpa",
    "Bids target CPA x pCTR x the user's predicted conversion probability from a feature model.",
    StringParam("model", "",
                "learning: offline: name of a scenario audience whose intercept and coefficients predict the logit "
                "of the user's conversion probability after a click; empty = bid the base bid"),
    NumberParam("target_cpa", 0.0, "target cost per conversion, currency; 0 = the campaign's CPA goal", 0, 1e9),
    NumberParam("ctr_alpha", 1.0, "Beta prior on the click rate: pseudo-clicks", 0, 1e9),
    NumberParam("ctr_beta", 99.0, "Beta prior on the click rate: pseudo-non-clicks", 0, 1e9),
    NumberParam("min_impressions", 100.0, "impressions a cell needs before it bids on pCTR", 0, 1e12),
    StringParam("learning", "offline",
                "offline (the model of an audience, fixed for the run) or online (refitted each control cycle from "
                "the users' reported conversions so far)",
                {"offline", "online"}),
    NumberParam("l2", 1.0, "online: L2 penalty (prior precision) of the logistic fit", 1e-9, 1e9),
    NumberParam("cvr_alpha", 1.0, "online: Beta prior pseudo-conversions of the pooled rate (per click)", 1e-6, 1e9),
    NumberParam("cvr_beta", 20.0, "online: Beta prior pseudo-clicks without a conversion of the pooled rate", 1e-6,
                1e12),
    NumberParam("conversion_delay_hours", 0.0,
                "online: assumed mean of an exponential conversion delay, to discount clicks whose conversion is not "
                "reported yet (0 = no correction)",
                0, 1e4),
    NumberParam("explore_bid_share", 1.0,
                "online: exploration floor: a cell bids at least this share of the base bid while its estimate's "
                "interval is wide (0 = no floor)",
                0, 100),
    NumberParam("explore_until_width", 0.5,
                "online: the floor holds while the relative half-width of the 95% interval of a cell's value per "
                "billing unit exceeds this",
                1e-6, 1e6));

}  // namespace
}  // namespace adsim::bidders
