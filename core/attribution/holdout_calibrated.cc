// Owns the `holdout_calibrated` attribution model (docs/attribution.md,
// "Incrementality-calibrated attribution"): each channel's holdout-measured
// incremental credit (unbiased, noisy) shrunk toward a path model's share of
// the holdouts' total (precise, biased), with the weight of each derived from
// the data: the holdout's standard errors and how far the two disagree, by
// empirical Bayes over the path model's error scale. Like `holdout`, it reads
// only what an advertiser observes (paths, conversions, the holdout groups).
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "core/attribution/models.h"
#include "core/error.h"

namespace adsim::attribution {
namespace {

// Grid points of the error scale tau in (0, upper]: the posterior of tau is
// integrated by the midpoint rule, fine enough that the credit moves by far
// less than its standard error between grid sizes.
constexpr int kTauGrid = 2000;

struct Calibrated {
  std::vector<double> credit, se;
};

// One measure (conversions or value). `measured` are the holdout estimates h_c
// with standard errors s_c, `path` the path model's credit m_c over the same
// channels, `upper` the largest error scale considered.
//
//   H = sum h_c,  prior_c = m_c / sum m * H,  r_c = h_c - prior_c
//   model: theta_c = pi_c Theta + u_c,  u_c ~ N(0, tau^2);  h_c ~ N(theta_c, s_c^2)
//   r = A (u + e) with A = I - pi 1^T (rank C - 1): its first C - 1 entries
//   have the exact likelihood N(0, B (tau^2 I + S) B^T), B = the first C - 1
//   rows of A. tau has a flat prior on (0, upper]; given tau the credit is
//   prior_c + gamma_c r_c with gamma_c = tau^2 / (tau^2 + s_c^2), and its
//   variance gamma_c s_c^2. The posterior mean over tau, then shifted so that
//   the credits add up to H (the Gaussian conditional on the total: each
//   channel takes a part of the gap in proportion to its posterior variance).
Calibrated Combine(const std::vector<double>& measured, const std::vector<double>& se, const std::vector<double>& path,
                   double upper) {
  const int channels = static_cast<int>(measured.size());
  Calibrated out{measured, std::vector<double>(channels, 0.0)};
  double total = 0, path_total = 0;
  for (int c = 0; c < channels; ++c) {
    total += measured[c];
    path_total += path[c];
  }
  bool noisy = false;
  for (const double s : se) noisy = noisy || s > 0;
  // One channel, or a path model that credits none of them, or a noiseless
  // holdout: nothing to calibrate, the holdout stands.
  if (channels < 2 || !(path_total > 0) || !noisy) {
    out.se = se;
    return out;
  }
  std::vector<double> share(channels), prior(channels), residual(channels);
  for (int c = 0; c < channels; ++c) {
    share[c] = path[c] / path_total;
    prior[c] = share[c] * total;
    residual[c] = measured[c] - prior[c];
  }
  const int free = channels - 1;
  Eigen::MatrixXd projection = Eigen::MatrixXd::Identity(free, channels);
  for (int row = 0; row < free; ++row)
    for (int c = 0; c < channels; ++c) projection(row, c) -= share[row];
  Eigen::VectorXd observed(free);
  for (int row = 0; row < free; ++row) observed(row) = residual[row];
  Eigen::VectorXd noise(channels);
  for (int c = 0; c < channels; ++c) noise(c) = se[c] * se[c];

  std::vector<double> log_likelihood(kTauGrid), taus(kTauGrid);
  double best = -INFINITY;
  for (int k = 0; k < kTauGrid; ++k) {
    const double tau = upper * (k + 0.5) / kTauGrid;
    taus[k] = tau;
    const Eigen::VectorXd variance = noise.array() + tau * tau;
    const Eigen::MatrixXd covariance = projection * variance.asDiagonal() * projection.transpose();
    const Eigen::LDLT<Eigen::MatrixXd> factor(covariance);
    const Eigen::VectorXd diagonal = factor.vectorD();
    double log_determinant = 0;
    for (int i = 0; i < free; ++i) log_determinant += std::log(std::max(diagonal(i), 1e-300));
    log_likelihood[k] = -0.5 * (log_determinant + observed.dot(factor.solve(observed)));
    best = std::max(best, log_likelihood[k]);
  }
  std::vector<double> mean(channels, 0.0), second(channels, 0.0), variance(channels, 0.0);
  double weights = 0;
  for (int k = 0; k < kTauGrid; ++k) {
    const double weight = std::exp(log_likelihood[k] - best);
    weights += weight;
    const double tau_sq = taus[k] * taus[k];
    for (int c = 0; c < channels; ++c) {
      const double noise_sq = se[c] * se[c];
      const double gamma = noise_sq > 0 ? tau_sq / (tau_sq + noise_sq) : 1.0;
      const double credit = prior[c] + gamma * residual[c];
      mean[c] += weight * credit;
      second[c] += weight * credit * credit;
      variance[c] += weight * gamma * noise_sq;
    }
  }
  double mean_total = 0, variance_total = 0;
  for (int c = 0; c < channels; ++c) {
    mean[c] /= weights;
    // Posterior variance: E[var | tau] + var over tau of E[credit | tau].
    variance[c] = variance[c] / weights + std::max(0.0, second[c] / weights - mean[c] * mean[c]);
    mean_total += mean[c];
    variance_total += variance[c];
  }
  for (int c = 0; c < channels; ++c) {
    const double part = variance_total > 0 ? variance[c] / variance_total : 1.0 / channels;
    out.credit[c] = mean[c] + part * (total - mean_total);
    // Conditioning on the total removes that part of the variance.
    out.se[c] = std::sqrt(std::max(0.0, variance[c] - (variance_total > 0 ? variance[c] * part : 0.0)));
  }
  return out;
}

}  // namespace

ModelCredit HoldoutCalibrated(const PathData& data, const ModelOptions& options) {
  // ParseModelOptions refuses these too; options built in code must not recurse.
  if (options.calibration_prior == "holdout" || options.calibration_prior == "holdout_calibrated")
    throw ConfigError("attribute: --param calibration_prior: expected a path model, found '" +
                      options.calibration_prior + "'");
  const ModelCredit holdout = HoldoutIncrementality(data);
  const ModelCredit path = Attribute(data, options.calibration_prior, options);
  ModelCredit credit = ZeroCredit("holdout_calibrated", data);
  const size_t n = data.channel_names.size();
  // Only the channels with a holdout take part; the others get 0 as in `holdout`.
  std::vector<size_t> measured;
  for (size_t c = 0; c < n; ++c)
    for (const ChannelHoldout& channel : data.holdout)
      if (channel.channel == data.channel_names[c]) {
        measured.push_back(c);
        break;
      }
  for (const bool value : {false, true}) {
    std::vector<double> estimate, se, prior_credit;
    for (const size_t c : measured) {
      estimate.push_back(value ? holdout.value[c] : holdout.conversions[c]);
      se.push_back(value ? holdout.value_se[c] : holdout.conversions_se[c]);
      prior_credit.push_back(std::max(0.0, value ? path.value[c] : path.conversions[c]));
    }
    // The error scale of a channel's path credit is at most the data's whole
    // total (observed conversions, organic ones included) or the measured scale.
    double upper = value ? data.TotalValue() : data.TotalConversions();
    for (size_t i = 0; i < measured.size(); ++i) upper = std::max(upper, std::abs(estimate[i]) + 10 * se[i]);
    const Calibrated combined = Combine(estimate, se, prior_credit, upper > 0 ? upper : 1.0);
    for (size_t i = 0; i < measured.size(); ++i) {
      (value ? credit.value : credit.conversions)[measured[i]] = combined.credit[i];
      (value ? credit.value_se : credit.conversions_se)[measured[i]] = combined.se[i];
    }
  }
  credit.note = "prior " + options.calibration_prior + (holdout.note.empty() ? "" : "; " + holdout.note);
  return credit;
}

}  // namespace adsim::attribution
