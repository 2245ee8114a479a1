// An L2-regularised logistic regression on aggregated counts, fitted by
// Newton's method (iteratively reweighted least squares) with Eigen. Used by
// the value bidders and predictive_cpa (through strategies/bidders/lib/
// logistic_model.h), adsim.lookalike's binding, and the engine's in-run
// lookalike audiences (core/engine/user_features.cc): it lives in core/
// because core/engine/ may include only core/.
//
// Data are cells: a feature row x_j (d numbers, the first usually a constant
// 1), n_j trials and s_j successes (both may be fractional: discounted or
// delay-corrected counts). The model is p_j = sigmoid(x_j . w). Fit() maximises
//   sum_j [ s_j log p_j + (n_j - s_j) log(1 - p_j) ]  -  (l2 / 2) |w - w0|^2
// where w0 is the prior centre (SetPrior: typically the logit of a prior rate
// on the intercept and 0 elsewhere), so that without data the prediction is
// the prior rate and the fit never diverges, even when a cell (or all of
// them) has no successes. Each Newton step solves
//   (X' W X + l2 I) dw = X' (s - n p) - l2 (w - w0),   W = diag(n p (1 - p)),
// with an LDLT factorisation, halving the step while the objective does not
// improve. Cost: O(cells x d^2) per iteration plus O(d^3). Refits start from the
// last solution (warm start), so an online refit each cycle takes a few
// iterations. Covariance() is the inverse of the penalised Hessian at the
// solution: the Laplace approximation of the posterior (a Gaussian prior of
// precision l2 around w0), whose diagonal gives the coefficients' standard errors.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace adsim::estimators {

class LogisticModel {
 public:
  LogisticModel(int dim, double l2) : l2_(l2), w_(Eigen::VectorXd::Zero(dim)), w0_(Eigen::VectorXd::Zero(dim)) {
    if (dim < 1) throw std::invalid_argument("LogisticModel: dim must be at least 1, got " + std::to_string(dim));
    if (!(l2 >= 0)) throw std::invalid_argument("LogisticModel: l2 must be >= 0, got " + std::to_string(l2));
  }

  // The prior centre; also resets the coefficients to it.
  void SetPrior(const Eigen::VectorXd& w0) {
    if (w0.size() != w_.size()) throw std::invalid_argument("LogisticModel::SetPrior: wrong dimension");
    w0_ = w0;
    w_ = w0;
  }

  // x: cells x dim; trials, successes: per cell, 0 <= successes <= trials.
  // Returns the number of Newton iterations taken.
  int Fit(const Eigen::MatrixXd& x, const Eigen::VectorXd& trials, const Eigen::VectorXd& successes,
          int max_iterations = 50, double tolerance = 1e-9) {
    if (x.cols() != w_.size() || x.rows() != trials.size() || trials.size() != successes.size())
      throw std::invalid_argument("LogisticModel::Fit: dimensions of x, trials and successes disagree");
    double f = Objective(x, trials, successes, w_);
    int it = 0;
    for (; it < max_iterations; ++it) {
      const Eigen::VectorXd eta = x * w_;
      Eigen::VectorXd resid(eta.size()), weight(eta.size());
      for (Eigen::Index j = 0; j < eta.size(); ++j) {
        const double p = Sigmoid(eta[j]);
        resid[j] = successes[j] - trials[j] * p;
        weight[j] = trials[j] * p * (1.0 - p);
      }
      hessian_ = x.transpose() * weight.asDiagonal() * x;
      hessian_.diagonal().array() += l2_;
      const Eigen::VectorXd grad = x.transpose() * resid - l2_ * (w_ - w0_);
      const Eigen::VectorXd step = hessian_.ldlt().solve(grad);
      if (!step.allFinite()) break;
      // Step halving: Newton is not guaranteed to improve far from the optimum.
      double t = 1.0, f_new = f;
      Eigen::VectorXd w_new = w_;
      for (int h = 0; h < 30; ++h, t *= 0.5) {
        w_new = w_ + t * step;
        f_new = Objective(x, trials, successes, w_new);
        if (f_new >= f - 1e-12 * std::fabs(f)) break;
      }
      const double change = (w_new - w_).cwiseAbs().maxCoeff();
      w_ = w_new;
      f = f_new;
      if (change < tolerance) {
        ++it;
        break;
      }
    }
    // The Hessian at the final coefficients, for Covariance().
    const Eigen::VectorXd eta = x * w_;
    Eigen::VectorXd weight(eta.size());
    for (Eigen::Index j = 0; j < eta.size(); ++j) {
      const double p = Sigmoid(eta[j]);
      weight[j] = trials[j] * p * (1.0 - p);
    }
    hessian_ = x.transpose() * weight.asDiagonal() * x;
    hessian_.diagonal().array() += l2_;
    return it;
  }

  // The prior weight k (in pseudo-trials) with which a cell's own counts
  // should be shrunk towards the model's prediction m_j: cell rates are taken
  // as Beta(k m_j, k (1 - m_j)) around the model (beta-binomial
  // overdispersion), and k comes from the method of moments on the Pearson
  // statistic, E[(s_j - n_j m_j)^2 / (n_j m_j (1 - m_j))] = 1 + (n_j - 1) / (k + 1):
  //   k + 1 = sum_j (n_j - 1) / (sum_j Pearson_j - (J - d)),
  // over the J cells with at least 2 trials, clamped to [k_min, k_max]; when
  // the cells scatter no more than sampling noise, k = k_max (trust the model).
  double ShrinkageWeight(const Eigen::MatrixXd& x, const Eigen::VectorXd& trials, const Eigen::VectorXd& successes,
                         double k_min, double k_max) const {
    double pearson = 0, excess_trials = 0;
    int cells = 0;
    for (Eigen::Index j = 0; j < x.rows(); ++j) {
      if (trials[j] < 2) continue;
      const double m = Sigmoid(x.row(j).dot(w_));
      const double v = trials[j] * m * (1.0 - m);
      if (!(v > 0)) continue;
      pearson += (successes[j] - trials[j] * m) * (successes[j] - trials[j] * m) / v;
      excess_trials += trials[j] - 1.0;
      ++cells;
    }
    const double excess = pearson - std::max(0, cells - static_cast<int>(w_.size()));
    if (cells == 0 || !(excess > 0)) return k_max;
    return std::clamp(excess_trials / excess - 1.0, k_min, k_max);
  }

  double Predict(const Eigen::Ref<const Eigen::RowVectorXd, 0, Eigen::InnerStride<>>& row) const {
    return Sigmoid(row.dot(w_));
  }
  const Eigen::VectorXd& coefficients() const { return w_; }
  // Inverse of the penalised Hessian at the last fit (empty before any fit).
  Eigen::MatrixXd Covariance() const {
    if (hessian_.size() == 0) return {};
    return hessian_.ldlt().solve(Eigen::MatrixXd::Identity(w_.size(), w_.size()));
  }

  static double Sigmoid(double z) {
    if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
    const double e = std::exp(z);
    return e / (1.0 + e);
  }
  static double Logit(double p) { return std::log(p / (1.0 - p)); }

 private:
  // Penalised log-likelihood; log(1 + e^z) computed stably.
  double Objective(const Eigen::MatrixXd& x, const Eigen::VectorXd& trials, const Eigen::VectorXd& successes,
                   const Eigen::VectorXd& w) const {
    const Eigen::VectorXd eta = x * w;
    double ll = 0;
    for (Eigen::Index j = 0; j < eta.size(); ++j) {
      const double z = eta[j];
      const double softplus = z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z));
      ll += successes[j] * z - trials[j] * softplus;  // s log p + (n - s) log(1 - p)
    }
    return ll - 0.5 * l2_ * (w - w0_).squaredNorm();
  }

  double l2_;
  Eigen::VectorXd w_, w0_;
  Eigen::MatrixXd hessian_;
};

}  // namespace adsim::estimators
