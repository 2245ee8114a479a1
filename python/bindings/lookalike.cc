// Owns adsim.lookalike's compiled half: the project's L2 logistic regression
// (strategies/bidders/lib/logistic_model.h, the Eigen fitter the value
// bidders use) over rows of features with trials and successes, returned as
// numpy arrays for python/adsim/_lookalike.py.
#include <pybind11/numpy.h>

#include <Eigen/Dense>
#include <stdexcept>
#include <string>

#include "core/error.h"
#include "python/bindings/module.h"
#include "strategies/bidders/lib/logistic_model.h"

namespace adsim::bindings {

namespace {

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

py::dict FitLogistic(const Array& x, const Array& trials, const Array& successes, double l2, const Array& prior) {
  if (x.ndim() != 2) throw DataError("fit_logistic: x must be a 2-D array (rows x features)");
  const auto rows = static_cast<Eigen::Index>(x.shape(0)), dim = static_cast<Eigen::Index>(x.shape(1));
  if (trials.ndim() != 1 || successes.ndim() != 1 || trials.shape(0) != rows || successes.shape(0) != rows)
    throw DataError("fit_logistic: trials and successes must be 1-D with one entry per row of x (" +
                    std::to_string(rows) + ")");
  if (prior.ndim() != 1 || prior.shape(0) != dim)
    throw DataError("fit_logistic: prior must have one entry per column of x (" + std::to_string(dim) + ")");
  Eigen::MatrixXd features(rows, dim);
  Eigen::VectorXd n(rows), s(rows), centre(dim);
  const double* xd = x.data();
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index k = 0; k < dim; ++k) features(i, k) = xd[i * dim + k];
    n[i] = trials.data()[i];
    s[i] = successes.data()[i];
    if (!(n[i] >= 0) || !(s[i] >= 0) || s[i] > n[i])
      throw DataError("fit_logistic: row " + std::to_string(i) + " needs 0 <= successes <= trials, got " +
                      std::to_string(s[i]) + " of " + std::to_string(n[i]));
  }
  for (Eigen::Index k = 0; k < dim; ++k) centre[k] = prior.data()[k];
  int iterations = 0;
  Eigen::VectorXd coefficients;
  Eigen::MatrixXd covariance;
  {
    py::gil_scoped_release release;
    estimators::LogisticModel model(static_cast<int>(dim), l2);
    model.SetPrior(centre);
    iterations = model.Fit(features, n, s, 100, 1e-10);
    coefficients = model.coefficients();
    covariance = model.Covariance();
  }
  py::array_t<double> w(dim), cov({dim, dim});
  for (Eigen::Index k = 0; k < dim; ++k) {
    w.mutable_data()[k] = coefficients[k];
    for (Eigen::Index j = 0; j < dim; ++j) cov.mutable_data()[k * dim + j] = covariance(k, j);
  }
  py::dict out;
  out["coefficients"] = w;
  out["covariance"] = cov;
  out["iterations"] = iterations;
  return out;
}

}  // namespace

void BindLookalike(py::module_& m) {
  m.def("fit_logistic", &FitLogistic, py::arg("x"), py::arg("trials"), py::arg("successes"), py::arg("l2"),
        py::arg("prior"),
        "L2 logistic regression (Newton/IRLS, Eigen): maximises sum s log p + (n - s) log(1 - p) - l2/2 |w - "
        "prior|^2 with p = sigmoid(x w). Returns {coefficients, covariance (inverse penalised Hessian), "
        "iterations}.");
}

}  // namespace adsim::bindings
