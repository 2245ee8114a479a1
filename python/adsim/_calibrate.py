"""adsim.calibrate: fit a synthetic market (a scenario) from aggregated history.

Owns reading and checking a history report (hourly or daily rows per
campaign, channel and segment), fitting the scenario's market parameters
from it (traffic volume and profiles, segment shares, click and conversion
rates with their uncertainty, the competition's lognormal bids, conversion
values and delays), writing the scenario as commented YAML, and the fit
report that says what came from what with which standard error. Also owns
the helpers that turn adsim's own results into such a report
(:func:`history_report`, :func:`conversion_log`), so a round trip needs no
hand-made data. docs/calibration.md is the user's page.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from ._errors import ConfigError, DataError, InvariantError, IoError

#: Columns every report row must have.
REPORT_COLUMNS: Tuple[str, ...] = (
    "time", "campaign", "channel", "segment", "impressions", "clicks", "conversions", "spend", "revenue")
#: Columns a report may have (requests received, bids placed, win rate, average bid placed).
OPTIONAL_COLUMNS: Tuple[str, ...] = ("requests", "bids", "win_rate", "bid")
#: Columns of a conversion log (one row per conversion); `campaign` and `channel` are optional.
CONVERSION_COLUMNS: Tuple[str, ...] = ("click_time", "conversion_time", "segment")

#: What the scenario format uses when a parameter is not identified (docs/scenario.md).
DEFAULT_COMPETITORS = 5
DEFAULT_SIGMA = 0.5
DEFAULT_DELAY_MEAN_HOURS = 12.0
DEFAULT_USERS = 100000
# Below this many conversions in a segment its delay is not fitted.
MIN_DELAY_CONVERSIONS = 20
# Errors listed before "... and N more".
MAX_LISTED_ERRORS = 20

ReportLike = Union[str, "os.PathLike[str]", pd.DataFrame]


@dataclass
class FitEntry:
    """One line of the fit report: a scenario field, its value and where it came from."""

    parameter: str
    value: Any
    standard_error: float
    fitted_from: str
    note: str = ""
    identified: bool = True


@dataclass
class Calibration:
    """What :func:`calibrate` returns: the scenario (dict and commented YAML) and the fit report."""

    scenario: Dict[str, Any]
    text: str
    entries: List[FitEntry] = field(default_factory=list)
    source: str = "<DataFrame>"

    @property
    def report(self) -> pd.DataFrame:
        """The fit report as a DataFrame: parameter, value, standard_error, fitted_from, identified, note."""
        return pd.DataFrame(
            [(e.parameter, e.value, e.standard_error, e.fitted_from, e.identified, e.note) for e in self.entries],
            columns=["parameter", "value", "standard_error", "fitted_from", "identified", "note"])

    def report_text(self) -> str:
        """The fit report as text: fitted parameters, then what could not be identified."""
        lines = [f"Fit report for {self.source}", "", "Fitted (value, standard error, from what):"]
        for entry in self.entries:
            if entry.identified:
                se = "" if not np.isfinite(entry.standard_error) else f" ± {_number(entry.standard_error)}"
                note = f"; {entry.note}" if entry.note else ""
                lines.append(f"  {entry.parameter} = {_value_text(entry.value)}{se}  ({entry.fitted_from}{note})")
        missing = [e for e in self.entries if not e.identified]
        lines += ["", "Not identified (default used):"]
        if not missing:
            lines.append("  (none)")
        for entry in missing:
            lines.append(f"  {entry.parameter} = {_value_text(entry.value)}  ({entry.note})")
        return "\n".join(lines) + "\n"

    def save(self, path: Union[str, "os.PathLike[str]"], report_path: Union[None, str, "os.PathLike[str]"] = None) -> str:
        """Writes the scenario (and the fit report, if a path is given); each file appears only when complete."""
        _write_atomically(os.fspath(path), self.text)
        if report_path is not None:
            _write_atomically(os.fspath(report_path), self.report_text())
        return os.fspath(path)


# ----------------------------------------------------------------------------------------------------------------
# Reading and checking


def _write_atomically(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    try:
        handle, temporary = tempfile.mkstemp(prefix=".calibrate-", dir=directory)
    except OSError as error:
        raise IoError(f"calibrate: cannot write {path}: {error.strerror}") from error
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except OSError as error:
        os.unlink(temporary)
        raise IoError(f"calibrate: cannot write {path}: {error.strerror}") from error


def _read_csv(path: str) -> pd.DataFrame:
    if not os.path.exists(path):
        raise IoError(f"calibrate: cannot open {path} for reading: no such file")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError as error:
        raise DataError(f"{path}: expected a CSV header line with the columns {', '.join(REPORT_COLUMNS)}, "
                        "found an empty file") from error
    except pd.errors.ParserError as error:
        raise DataError(f"{path}: expected CSV rows with as many fields as the header, found: {error}") from error
    except (OSError, UnicodeDecodeError) as error:
        raise IoError(f"calibrate: cannot read {path}: {error}") from error


class _Problems:
    """Collects bad cells as 'SOURCE:LINE: column 'x': expected ..., found ...' and raises them together."""

    def __init__(self, source: str, first_line: int) -> None:
        self.source = source
        self.first_line = first_line
        self.messages: List[str] = []

    def add(self, row: int, column: str, expected: str, found: Any) -> None:
        where = f"{self.source}:{row + self.first_line}" if self.first_line > 0 else f"{self.source}[row {row}]"
        self.messages.append(f"{where}: column '{column}': expected {expected}, found {found!r}")

    def raise_if_any(self, what: str) -> None:
        if not self.messages:
            return
        shown = self.messages[:MAX_LISTED_ERRORS]
        more = len(self.messages) - len(shown)
        tail = f"\n  ... and {more} more" if more else ""
        raise DataError(f"{len(self.messages)} error{'s' if len(self.messages) > 1 else ''} in {what}\n  "
                        + "\n  ".join(shown) + tail)


def _check_columns(frame: pd.DataFrame, required: Sequence[str], source: str, what: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"{source}: expected the {what} columns {', '.join(required)}, missing "
                        f"{', '.join(repr(c) for c in missing)} (found {', '.join(map(str, frame.columns))})")


def _times(frame: pd.DataFrame, column: str, problems: _Problems) -> pd.Series:
    raw = frame[column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw
    else:
        parsed = pd.to_datetime(raw.astype(str).str.strip().replace("", "NaT"), errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    for row in np.flatnonzero(parsed.isna().to_numpy()):
        problems.add(int(row), column, "a date-time such as 2026-03-02T13:00:00", raw.iloc[row])
    return parsed


def _numbers(frame: pd.DataFrame, column: str, problems: _Problems, *, whole: bool = False,
             low: float = 0.0, high: float = math.inf, optional: bool = False) -> np.ndarray:
    raw = frame[column]
    values = pd.to_numeric(raw.astype(str).str.strip().replace("", "nan") if raw.dtype == object else raw,
                           errors="coerce").to_numpy(dtype=float)
    expected = (f"a {'whole ' if whole else ''}number"
                + (f" in [{_number(low)}, {_number(high)}]" if np.isfinite(high) else f" >= {_number(low)}"))
    for row in range(len(values)):
        value = values[row]
        if optional and not np.isfinite(value) and str(raw.iloc[row]).strip() in ("", "nan", "NaN"):
            continue
        if not np.isfinite(value) or value < low or value > high or (whole and value != math.floor(value)):
            problems.add(row, column, expected, raw.iloc[row])
    return values


def read_report(report: ReportLike, source: Optional[str] = None) -> pd.DataFrame:
    """Reads and checks a history report (a CSV path or a DataFrame); returns it typed.

    Every bad cell is reported together, as ``FILE:LINE: column 'c': expected
    ..., found ...`` (lines count the header as line 1); a DataError is
    raised if there is any. Rows must be hourly or daily (all times on whole
    hours or midnights, the smallest step between distinct times 1h or 1d).
    """
    if isinstance(report, pd.DataFrame):
        frame = report.reset_index(drop=True)
        source = source or "<DataFrame>"
        first_line = 0
    elif isinstance(report, (str, os.PathLike)):
        source = source or os.fspath(report)
        frame = _read_csv(os.fspath(report))
        first_line = 2
    else:
        raise ConfigError(f"calibrate: expected a CSV path or a DataFrame, found {type(report).__name__}")
    _check_columns(frame, REPORT_COLUMNS, source, "report")
    if len(frame) == 0:
        raise DataError(f"{source}: expected at least one report row, found none")
    problems = _Problems(source, first_line)
    out = pd.DataFrame({"time": _times(frame, "time", problems)})
    for column in ("campaign", "channel", "segment"):
        names = frame[column].astype(str).str.strip()
        for row in np.flatnonzero((names == "").to_numpy() | frame[column].isna().to_numpy()):
            problems.add(int(row), column, f"a {column} name", frame[column].iloc[row])
        out[column] = names
    for column in ("impressions", "clicks", "conversions"):
        out[column] = _numbers(frame, column, problems, whole=True)
    for column in ("spend", "revenue"):
        out[column] = _numbers(frame, column, problems)
    for column in ("requests", "bids"):
        if column in frame.columns:
            out[column] = _numbers(frame, column, problems, whole=True, optional=True)
    if "win_rate" in frame.columns:
        out["win_rate"] = _numbers(frame, "win_rate", problems, high=1.0, optional=True)
    if "bid" in frame.columns:
        out["bid"] = _numbers(frame, "bid", problems, optional=True)
    bad_clicks = np.flatnonzero(out["clicks"].to_numpy() > out["impressions"].to_numpy())
    for row in bad_clicks:
        problems.add(int(row), "clicks", f"at most the row's impressions ({int(out['impressions'].iloc[row])})",
                     frame["clicks"].iloc[row])
    for column in ("bids", "requests"):
        if column in out.columns:
            over = np.flatnonzero(out["impressions"].to_numpy() > out[column].to_numpy())
            for row in over:
                problems.add(int(row), column, f"at least the row's impressions ({int(out['impressions'].iloc[row])})",
                             frame[column].iloc[row])
    problems.raise_if_any(source)
    step = _step(out["time"], source)
    misaligned = out["time"] != out["time"].dt.floor(step)
    for row in np.flatnonzero(misaligned.to_numpy())[:MAX_LISTED_ERRORS]:
        problems.add(int(row), "time", f"a time on a whole {'hour' if step == '1h' else 'day (midnight)'}",
                     str(frame["time"].iloc[row]))
    problems.raise_if_any(source)
    duplicated = out.duplicated(subset=["time", "campaign", "channel", "segment"], keep="first")
    for row in np.flatnonzero(duplicated.to_numpy())[:MAX_LISTED_ERRORS]:
        problems.add(int(row), "time", "one row per time, campaign, channel and segment",
                     f"a second row for {out['time'].iloc[row]}, {out['campaign'].iloc[row]}, "
                     f"{out['channel'].iloc[row]}, {out['segment'].iloc[row]}")
    problems.raise_if_any(source)
    out.attrs["step"] = step
    out.attrs["source"] = source
    return out


def _step(times: pd.Series, source: str) -> str:
    distinct = np.unique(times.to_numpy())
    if len(distinct) < 2:
        return "1h" if (times.dt.hour != 0).any() else "1d"
    smallest = pd.Timedelta(np.diff(distinct).min())
    if smallest == pd.Timedelta("1h"):
        return "1h"
    if smallest == pd.Timedelta("1d"):
        return "1d"
    raise DataError(f"{source}: column 'time': expected hourly or daily rows (distinct times 1h or 1d apart), "
                    f"found times {smallest} apart")


def read_conversions(conversions: ReportLike, source: Optional[str] = None) -> pd.DataFrame:
    """Reads and checks a conversion log (click_time, conversion_time, segment[, channel, campaign])."""
    if isinstance(conversions, pd.DataFrame):
        frame = conversions.reset_index(drop=True)
        source = source or "<conversions DataFrame>"
        first_line = 0
    else:
        source = source or os.fspath(conversions)
        frame = _read_csv(os.fspath(conversions))
        first_line = 2
    _check_columns(frame, CONVERSION_COLUMNS, source, "conversion log")
    problems = _Problems(source, first_line)
    out = pd.DataFrame({"click_time": _times(frame, "click_time", problems),
                        "conversion_time": _times(frame, "conversion_time", problems),
                        "segment": frame["segment"].astype(str).str.strip()})
    problems.raise_if_any(source)
    for row in np.flatnonzero((out["conversion_time"] < out["click_time"]).to_numpy())[:MAX_LISTED_ERRORS]:
        problems.add(int(row), "conversion_time", f"a time at or after click_time ({out['click_time'].iloc[row]})",
                     str(frame["conversion_time"].iloc[row]))
    problems.raise_if_any(source)
    return out


# ----------------------------------------------------------------------------------------------------------------
# Small formatting helpers


def _number(value: float) -> str:
    if value is None or not np.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    return f"{value:.4g}" if abs(value) < 1e-3 or abs(value) >= 1e6 else f"{value:.6g}"


def _value_text(value: Any) -> str:
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_value_text(v) for v in value) + "]"
    return str(value)


def _duration(hours: float) -> str:
    minutes = max(1, int(round(hours * 60)))
    return f"{minutes // 60}h{minutes % 60}m" if minutes % 60 else f"{minutes // 60}h"


# ----------------------------------------------------------------------------------------------------------------
# The competition model: K lognormal competitors, of which the auction sees the order statistics.


def _competition_moments(mu: float, sigma: float, competitors: int, slots: int, first_price: bool,
                         score: np.ndarray, floor: np.ndarray, points: int = 256
                         ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """P(win), E[price | win] and E[price^2 | win] in score units, per observation.

    Each competitor's score is exp(mu + sigma Z). We win a slot when fewer
    than `slots` competitors score above us: with F = F(score) and j of the K
    above, P(win) = sum_{j<slots} C(K, j) (1 - F)^j F^(K - j). Given j above,
    the price (second price, GSP) is Y = max(the highest of the K - j others,
    all below our score, floor); with H(y) = (F(y) / F(score))^(K - j) their
    CDF, E[Y] = score - int_floor^score H(y) dy and
    E[Y^2] = score^2 - int_floor^score 2 y H(y) dy. First price: Y = score.
    """
    from scipy.special import comb, ndtr

    score = np.asarray(score, dtype=float)
    floor = np.asarray(floor, dtype=float)
    valid = (score > 0) & (score >= floor)
    safe_score = np.where(valid, score, 1.0)
    cdf_score = ndtr((np.log(safe_score) - mu) / sigma) if sigma > 0 else (safe_score > math.exp(mu)) * 1.0
    lower = np.maximum(floor, math.exp(mu - 8 * sigma))
    lower = np.minimum(lower, safe_score)
    grid = np.linspace(0.0, 1.0, points)
    # A geometric grid from the lower end to our score: the lognormal's mass is even in log space.
    ys = np.exp(np.log(np.maximum(lower, 1e-300))[:, None]
                + grid[None, :] * (np.log(safe_score) - np.log(np.maximum(lower, 1e-300)))[:, None])
    cdf_grid = ndtr((np.log(ys) - mu) / sigma) if sigma > 0 else (ys > math.exp(mu)) * 1.0
    ratio = np.where(cdf_score[:, None] > 0, cdf_grid / np.maximum(cdf_score[:, None], 1e-300), 0.0)
    ratio = np.clip(ratio, 0.0, 1.0)
    win = np.zeros_like(score)
    first = np.zeros_like(score)
    second = np.zeros_like(score)
    for above in range(min(slots, competitors + 1)):
        below = competitors - above
        probability = comb(competitors, above) * (1 - cdf_score) ** above * cdf_score ** below
        if first_price:
            mean, square = safe_score, safe_score ** 2
        else:
            h = ratio ** below
            mean = safe_score - np.trapz(h, ys, axis=1)
            square = safe_score ** 2 - np.trapz(2 * ys * h, ys, axis=1)
            # Below the geometric grid's lower end (the floor or 8 sigma below the median) H is 0
            # when a competitor is below us, and the price is the floor; with none below, it is the floor.
            if below == 0:
                mean, square = np.maximum(floor, 0.0), np.maximum(floor, 0.0) ** 2
        win += probability
        first += probability * mean
        second += probability * square
    win = np.where(valid, win, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_price = np.where(win > 0, first / win, np.nan)
        square_price = np.where(win > 0, second / win, np.nan)
    return win, mean_price, square_price


def _fit_competition(observations: pd.DataFrame, competitors: int, slots: int, first_price: bool,
                     start: Tuple[float, float]) -> Optional[Dict[str, Any]]:
    """Weighted least squares of observed win rates and prices on the model; None if not identified."""
    from scipy.optimize import least_squares

    score = observations["score"].to_numpy()
    floor = observations["floor"].to_numpy()
    n_bids = observations["bids"].to_numpy()
    wins = observations["wins"].to_numpy()
    n_price = observations["n_price"].to_numpy()
    price = observations["price"].to_numpy()      # in score units
    win_rate = (wins + 0.5) / (n_bids + 1.0)
    se_win = np.sqrt(win_rate * (1 - win_rate) / np.maximum(n_bids, 1.0))
    use_price = (not first_price) & (n_price > 0) & np.isfinite(price)
    moments = 2 * len(score) if not first_price else len(score)
    distinct = len(np.unique(np.round(score, 12)))
    if distinct * (1 if first_price else 2) < 2 or moments < 2:
        return None
    price_sd = np.full(len(score), np.nan)

    def residuals(theta: np.ndarray) -> np.ndarray:
        mu, sigma = theta[0], math.exp(theta[1])
        win, mean_price, square_price = _competition_moments(mu, sigma, competitors, slots, first_price, score, floor)
        parts = [(wins / np.maximum(n_bids, 1) - win) / se_win]
        if not first_price:
            sd = price_sd if np.all(np.isfinite(price_sd[use_price])) else np.sqrt(
                np.maximum(square_price - mean_price ** 2, 1e-24))
            r = np.where(use_price, (price - np.nan_to_num(mean_price)) / np.maximum(sd, 1e-12)
                         * np.sqrt(np.maximum(n_price, 1)), 0.0)
            parts.append(r)
        return np.concatenate(parts)

    theta = np.array(start, dtype=float)
    for _ in range(2):
        fit = least_squares(residuals, theta, method="lm", x_scale=[1.0, 0.3])
        theta = fit.x
        # Second stage: the price's standard deviation at the first fit, held fixed.
        _, m, s = _competition_moments(theta[0], math.exp(theta[1]), competitors, slots, first_price, score, floor)
        price_sd = np.sqrt(np.maximum(s - m ** 2, 1e-24))
    fit = least_squares(residuals, theta, method="lm", x_scale=[1.0, 0.3])
    jacobian = fit.jac
    dof = max(1, int(np.sum(use_price)) + len(score) - 2)
    chi_square = float(np.sum(fit.fun ** 2))
    dispersion = max(1.0, chi_square / dof)
    try:
        covariance = np.linalg.inv(jacobian.T @ jacobian) * dispersion
    except np.linalg.LinAlgError:
        covariance = np.full((2, 2), np.inf)
    mu, log_sigma = fit.x
    sigma = math.exp(log_sigma)
    se_mu = math.sqrt(max(covariance[0, 0], 0.0))
    se_sigma = sigma * math.sqrt(max(covariance[1, 1], 0.0))
    return {"mu": float(mu), "sigma": sigma, "se_mu": se_mu, "se_sigma": se_sigma,
            "chi_square": chi_square, "dof": dof, "dispersion": dispersion, "observations": len(score)}


# ----------------------------------------------------------------------------------------------------------------
# Conversion delays: truncated maximum likelihood (a conversion is seen only before the end of the history).


def _fit_delays(delays_hours: np.ndarray, windows_hours: np.ndarray) -> Dict[str, Any]:
    """Exponential and lognormal fits of delays observed within their windows; the better by AIC."""
    from scipy.optimize import minimize
    from scipy.special import log_ndtr

    d = np.maximum(delays_hours, 1e-6)
    c = np.maximum(windows_hours, d)

    def exponential(theta: np.ndarray) -> float:
        mean = math.exp(theta[0])
        return -float(np.sum(-math.log(mean) - d / mean - np.log(-np.expm1(-c / mean))))

    def lognormal(theta: np.ndarray) -> float:
        log_median, sigma = theta[0], math.exp(theta[1])
        z = (np.log(d) - log_median) / sigma
        return -float(np.sum(-0.5 * z ** 2 - 0.5 * math.log(2 * math.pi) - math.log(sigma) - np.log(d)
                             - log_ndtr((np.log(c) - log_median) / sigma)))

    def fit(function: Any, start: np.ndarray) -> Tuple[np.ndarray, float, np.ndarray]:
        result = minimize(function, start, method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000})
        hessian = _numeric_hessian(function, result.x)
        try:
            covariance = np.linalg.inv(hessian)
        except np.linalg.LinAlgError:
            covariance = np.full(hessian.shape, np.inf)
        return result.x, float(result.fun), covariance

    exp_theta, exp_nll, exp_cov = fit(exponential, np.array([math.log(np.mean(d))]))
    log_theta, log_nll, log_cov = fit(lognormal, np.array([np.mean(np.log(d)), math.log(max(np.std(np.log(d)), 0.1))]))
    exp_aic, log_aic = 2 * 1 + 2 * exp_nll, 2 * 2 + 2 * log_nll
    if exp_aic <= log_aic:
        mean = math.exp(exp_theta[0])
        return {"distribution": "exponential", "mean_hours": mean,
                "se_mean_hours": mean * math.sqrt(max(exp_cov[0, 0], 0.0)), "aic_exponential": exp_aic,
                "aic_lognormal": log_aic}
    median, sigma = math.exp(log_theta[0]), math.exp(log_theta[1])
    return {"distribution": "lognormal", "median_hours": median, "sigma": sigma,
            "se_median_hours": median * math.sqrt(max(log_cov[0, 0], 0.0)),
            "se_sigma": sigma * math.sqrt(max(log_cov[1, 1], 0.0)), "aic_exponential": exp_aic,
            "aic_lognormal": log_aic}


def _numeric_hessian(function: Any, theta: np.ndarray, step: float = 1e-4) -> np.ndarray:
    size = len(theta)
    hessian = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            shifts = []
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                point = theta.copy()
                point[i] += si * step
                point[j] += sj * step
                shifts.append(function(point))
            hessian[i, j] = (shifts[0] - shifts[1] - shifts[2] + shifts[3]) / (4 * step * step)
    return hessian


def _delay_cdf(delay: Dict[str, Any], hours: np.ndarray) -> np.ndarray:
    from scipy.special import ndtr

    hours = np.maximum(hours, 0.0)
    if delay["distribution"] == "exponential":
        return -np.expm1(-hours / delay["mean_hours"])
    with np.errstate(divide="ignore"):
        return ndtr((np.log(hours) - math.log(delay["median_hours"])) / delay["sigma"])


# ----------------------------------------------------------------------------------------------------------------
# The fit


def _load_base(base: Any) -> Optional[Dict[str, Any]]:
    if base is None:
        return None
    import yaml  # type: ignore[import]  # PyYAML (no stubs in Debian)

    if isinstance(base, dict):
        return dict(base)
    if isinstance(base, (str, os.PathLike)) and os.path.exists(os.fspath(base)):
        path = os.fspath(base)
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError as error:
            raise IoError(f"calibrate: cannot read the base scenario {path}: {error.strerror}") from error
    elif isinstance(base, str) and "\n" in base:
        text, path = base, "<base text>"
    else:
        raise IoError(f"calibrate: cannot open the base scenario {os.fspath(base)}: no such file")
    from ._run import validate

    validate(text if path == "<base text>" else path)
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise ConfigError(f"{path}: expected a scenario mapping as the base")
    return loaded


def _named(items: Optional[List[Dict[str, Any]]]) -> Dict[str, Dict[str, Any]]:
    return {str(item.get("name")): item for item in (items or []) if isinstance(item, dict)}


def calibrate(report: ReportLike, conversions: Optional[ReportLike] = None, base: Any = None, *,
              name: str = "calibrated", seed: int = 1, source: Optional[str] = None) -> Calibration:
    """Fits a scenario's market from aggregated history; returns a :class:`Calibration`.

    * `report`: a CSV path or a DataFrame with one row per time (hourly or
      daily), campaign, channel and segment: time, campaign, channel, segment,
      impressions, clicks, conversions, spend, revenue; optionally requests
      (bid requests received), bids (bids placed), win_rate and bid (the
      average bid placed, per impression or per click on click-billed
      channels). See docs/calibration.md.
    * `conversions`: optional conversion log (click_time, conversion_time,
      segment): fits each segment's conversion delay.
    * `base`: optional scenario (path, text or dict) whose structure is kept:
      auctions, billing, floors, competitor counts, users, campaigns,
      guardrails. Without it these get the defaults and campaigns are built
      from the report.

    The scenario validates (``adsim validate``) or an InvariantError is raised.
    """
    frame = read_report(report, source)
    source_name: str = frame.attrs["source"]
    step = frame.attrs["step"]
    delays_log = read_conversions(conversions) if conversions is not None else None
    base_scenario = _load_base(base)
    entries: List[FitEntry] = []
    step_hours = 1.0 if step == "1h" else 24.0
    start = frame["time"].min().floor("1d") if step == "1d" else frame["time"].min()
    end = frame["time"].max() + pd.Timedelta(step)
    hours = (end - start) / pd.Timedelta("1h")
    base_channels = _named(base_scenario.get("channels")) if base_scenario else {}
    base_segments = _named(base_scenario.get("segments")) if base_scenario else {}
    channels = list(dict.fromkeys(list(base_channels) + sorted(frame["channel"].unique())))
    segments = list(dict.fromkeys(list(base_segments) + sorted(frame["segment"].unique())))
    reported_channels = set(frame["channel"])
    reported_segments = set(frame["segment"])

    # Requests per row: given, or bids, or impressions / win rate; the traffic is not identified otherwise.
    if "requests" in frame.columns and frame["requests"].notna().all():
        frame["_requests"] = frame["requests"]
        traffic_from = "requests"
    elif "bids" in frame.columns and frame["bids"].notna().all():
        frame["_requests"] = frame["bids"]
        traffic_from = "bids (no requests column: every request is assumed bid on)"
    elif "win_rate" in frame.columns and frame["win_rate"].notna().all() and (frame["win_rate"] > 0).all():
        frame["_requests"] = frame["impressions"] / frame["win_rate"]
        traffic_from = "impressions / win_rate (no requests or bids columns)"
    else:
        frame["_requests"] = frame["impressions"].astype(float)
        traffic_from = None
    if "bids" in frame.columns and frame["bids"].notna().all():
        frame["_bids"] = frame["bids"]
    elif "win_rate" in frame.columns and frame["win_rate"].notna().all():
        frame["_bids"] = frame["impressions"] / frame["win_rate"].where(frame["win_rate"] > 0)
    elif "requests" in frame.columns and frame["requests"].notna().all():
        frame["_bids"] = frame["requests"]
    else:
        frame["_bids"] = np.nan

    # Two campaigns on one (time, channel, segment) see the same requests: take the largest, not the sum.
    cell_requests = frame.groupby(["time", "channel", "segment"], sort=True)["_requests"].max().reset_index()

    scenario_channels: List[Dict[str, Any]] = []
    channel_comments: Dict[str, Dict[str, str]] = {}
    billing: Dict[str, str] = {}
    for channel in channels:
        base_channel = dict(base_channels.get(channel, {}))
        rows = frame[frame["channel"] == channel]
        out: Dict[str, Any] = {"name": channel}
        comments: Dict[str, str] = {}
        auction = base_channel.get("auction", "second_price")
        out["auction"] = auction
        comments["auction"] = "from the base scenario" if "auction" in base_channel else \
            "not in the report: second price assumed"
        if "billing" in base_channel:
            billing[channel] = base_channel["billing"]
            comments["billing"] = "from the base scenario"
        else:
            paid_without_clicks = bool(((rows["clicks"] == 0) & (rows["spend"] > 0)).any())
            billing[channel] = "impression" if paid_without_clicks or rows.empty else "click"
            comments["billing"] = ("inferred: spend on rows without clicks" if paid_without_clicks
                                   else "inferred: spend only on rows with clicks")
        out["billing"] = billing[channel]
        out["floor"] = float(base_channel.get("floor", 0.0))
        comments["floor"] = "from the base scenario" if "floor" in base_channel else "not identified: 0"
        if "floor" not in base_channel:
            entries.append(FitEntry(f"channels.{channel}.floor", 0.0, math.nan, "", "not in the report; default 0",
                                    identified=False))
        if "quality_half_life" in base_channel:
            out["quality_half_life"] = base_channel["quality_half_life"]
        if channel not in reported_channels:
            for key in ("traffic", "competition", "ctr_factor"):
                if key in base_channel:
                    out[key] = base_channel[key]
            comments["traffic"] = "not in the report: kept from the base scenario"
            entries.append(FitEntry(f"channels.{channel}", "from base", math.nan, "",
                                    "channel not in the report: traffic and competition kept from the base",
                                    identified=False))
            scenario_channels.append(out)
            channel_comments[channel] = comments
            continue
        requests = cell_requests[cell_requests["channel"] == channel]
        total = float(requests["_requests"].sum())
        per_hour = total / hours
        traffic: Dict[str, Any] = {"per_hour": per_hour}
        if traffic_from is None:
            entries.append(FitEntry(f"channels.{channel}.traffic.per_hour", per_hour, math.nan, "impressions",
                                    "not identified (no requests, bids or win_rate): the impressions won, a lower "
                                    "bound", identified=False))
            comments["per_hour"] = "NOT IDENTIFIED: impressions won per hour, a lower bound"
        else:
            se = math.sqrt(total) / hours
            entries.append(FitEntry(f"channels.{channel}.traffic.per_hour", per_hour, se, traffic_from,
                                    "requests on the segments the campaigns target; Poisson standard error"))
            comments["per_hour"] = f"SE {_number(se)}: mean {traffic_from.split(' ')[0]} per hour"
        by_time = requests.groupby("time")["_requests"].sum()
        if step == "1h":
            by_hour = by_time.groupby(by_time.index.hour).agg(["sum", "count"])
            if len(by_hour) == 24:
                rate = by_hour["sum"] / by_hour["count"]
                profile = (rate / rate.mean()).reindex(range(24)).to_numpy()
                relative_se = float(np.max(1 / np.sqrt(np.maximum(by_hour["sum"].to_numpy(), 1))))
                traffic["hour_of_day"] = [round(float(v), 4) for v in profile]
                entries.append(FitEntry(f"channels.{channel}.traffic.hour_of_day", traffic["hour_of_day"],
                                        relative_se, traffic_from or "impressions",
                                        "mean rate per clock hour / mean; SE is the largest relative SE"))
                comments["hour_of_day"] = f"relative SE at most {_number(relative_se)}"
            else:
                entries.append(FitEntry(f"channels.{channel}.traffic.hour_of_day", "all 1", math.nan, "",
                                        f"only {len(by_hour)} of 24 clock hours in the report", identified=False))
        else:
            entries.append(FitEntry(f"channels.{channel}.traffic.hour_of_day", "all 1", math.nan, "",
                                    "daily rows: no hour-of-day profile", identified=False))
        hours_per_day = by_time.groupby(by_time.index.dayofweek).agg(["sum", "count"])
        if len(hours_per_day) == 7:
            rate = hours_per_day["sum"] / (hours_per_day["count"] * step_hours)
            profile = (rate / rate.mean()).reindex(range(7)).to_numpy()
            relative_se = float(np.max(1 / np.sqrt(np.maximum(hours_per_day["sum"].to_numpy(), 1))))
            traffic["day_of_week"] = [round(float(v), 4) for v in profile]
            entries.append(FitEntry(f"channels.{channel}.traffic.day_of_week", traffic["day_of_week"], relative_se,
                                    traffic_from or "impressions",
                                    "mean rate per weekday / mean (Poisson SE only: one week gives no day-to-day "
                                    "spread)"))
            comments["day_of_week"] = f"Monday first; relative SE at most {_number(relative_se)}"
        else:
            entries.append(FitEntry(f"channels.{channel}.traffic.day_of_week", "all 1", math.nan, "",
                                    f"only {len(hours_per_day)} of 7 weekdays in the report", identified=False))
        out["traffic"] = traffic
        scenario_channels.append(out)
        channel_comments[channel] = comments

    # Segment shares per channel.
    shares: Dict[str, Dict[str, float]] = {s: {} for s in segments}
    for channel in channels:
        requests = cell_requests[cell_requests["channel"] == channel]
        total = float(requests["_requests"].sum())
        if total <= 0:
            continue
        for segment, value in requests.groupby("segment")["_requests"].sum().items():
            shares[segment][channel] = float(value) / total
            entries.append(FitEntry(f"segments.{segment}.share.{channel}", float(value) / total,
                                    math.sqrt(float(value) / total * (1 - float(value) / total) / total),
                                    traffic_from or "impressions", "share of the channel's requests"))

    # Click rates: clicks_cs ~ impressions_cs x ctr_s x factor_c, by alternating maximum likelihood.
    cells = frame.groupby(["channel", "segment"])[["impressions", "clicks"]].sum()
    impressions = cells["impressions"].unstack(fill_value=0.0)
    clicks = cells["clicks"].unstack(fill_value=0.0)
    factor = pd.Series(1.0, index=impressions.index)
    reference = impressions.sum(axis=1).idxmax()
    ctr = pd.Series(0.0, index=impressions.columns)
    for _ in range(50):
        ctr = clicks.sum(axis=0) / (impressions.mul(factor, axis=0)).sum(axis=0).replace(0, np.nan)
        factor = clicks.sum(axis=1) / (impressions.mul(ctr, axis=1)).sum(axis=1).replace(0, np.nan)
        factor = (factor / factor[reference]).fillna(1.0)
    effective_impressions = impressions.mul(factor, axis=0).sum(axis=0)
    total_clicks = clicks.sum(axis=0)
    for channel in factor.index:
        if channel == reference:
            continue
        n_clicks = float(clicks.loc[channel].sum())
        se = factor[channel] / math.sqrt(max(n_clicks, 1.0))
        entries.append(FitEntry(f"channels.{channel}.ctr_factor", float(factor[channel]), se,
                                f"clicks / impressions on {channel} against {reference}",
                                f"relative to {reference} (ctr_factor 1)"))
    for channel, spec in zip(channels, scenario_channels):
        if channel in factor.index:
            spec["ctr_factor"] = round(float(factor[channel]), 6)
            if base_channels.get(channel, {}).get("auction", {}) == "gsp" or \
                    isinstance(base_channels.get(channel, {}).get("auction"), dict):
                auction = spec["auction"]
                kind = auction if isinstance(auction, str) else auction.get("type", "second_price")
                if kind == "gsp":
                    slots = 3 if isinstance(auction, str) else int(auction.get("slots", 3))
                    spec["auction"] = {"type": "gsp", "slots": slots, "click_factors": [1.0] * slots}
                    channel_comments[channel]["auction"] = ("GSP from the base; click_factors set to 1: the "
                                                            "report has no positions, the average slot effect is "
                                                            "in ctr_factor")
                    entries.append(FitEntry(f"channels.{channel}.auction.click_factors", [1.0] * slots, math.nan,
                                            "", "not identified (no positions in the report): the average slot "
                                            "effect is folded into the click rates", identified=False))
    quality = impressions.mul(ctr, axis=1).mul(factor, axis=0)  # observed click rate per channel x segment

    # Conversion delays per segment, from the conversion log.
    delays: Dict[str, Dict[str, Any]] = {}
    for segment in segments:
        default_delay = {"distribution": "exponential", "mean_hours": DEFAULT_DELAY_MEAN_HOURS}
        if delays_log is not None:
            log = delays_log[(delays_log["segment"] == segment) & (delays_log["conversion_time"] < end)
                             & (delays_log["click_time"] >= start)]
            if len(log) >= MIN_DELAY_CONVERSIONS:
                delay_hours = ((log["conversion_time"] - log["click_time"]) / pd.Timedelta("1h")).to_numpy()
                window_hours = ((end - log["click_time"]) / pd.Timedelta("1h")).to_numpy()
                fitted = _fit_delays(delay_hours, window_hours)
                fitted["n"] = len(log)
                delays[segment] = fitted
                what = f"{len(log)} conversions of the log (truncated at the end of the history)"
                if fitted["distribution"] == "exponential":
                    entries.append(FitEntry(f"segments.{segment}.conversion_delay.mean (hours)",
                                            fitted["mean_hours"], fitted["se_mean_hours"], what,
                                            "exponential (lower AIC than lognormal)"))
                else:
                    entries.append(FitEntry(f"segments.{segment}.conversion_delay.median (hours)",
                                            fitted["median_hours"], fitted["se_median_hours"], what,
                                            "lognormal (lower AIC than exponential)"))
                    entries.append(FitEntry(f"segments.{segment}.conversion_delay.sigma", fitted["sigma"],
                                            fitted["se_sigma"], what, "lognormal"))
                continue
        delays[segment] = default_delay
        reason = ("no conversion log" if delays_log is None
                  else f"fewer than {MIN_DELAY_CONVERSIONS} conversions in the log")
        entries.append(FitEntry(f"segments.{segment}.conversion_delay", "exponential, mean 12h", math.nan, "",
                                f"not identified ({reason}): the scenario default", identified=False))

    # Conversion rates per click, corrected for conversions that had not arrived by the end of the history.
    frame["_click_hours_left"] = (end - (frame["time"] + pd.Timedelta(step) / 2)) / pd.Timedelta("1h")
    segment_rows: Dict[str, Dict[str, Any]] = {}
    for segment in segments:
        rows = frame[frame["segment"] == segment]
        if segment not in reported_segments:
            continue
        n_clicks = float(rows["clicks"].sum())
        seen = _delay_cdf(delays[segment], rows["_click_hours_left"].to_numpy())
        arrived = float(np.sum(rows["clicks"].to_numpy() * seen)) / max(n_clicks, 1.0)
        n_conversions = float(rows["conversions"].sum())
        effective_clicks = max(n_clicks * arrived, n_conversions + 1.0)
        cvr = n_conversions / effective_clicks
        revenue = float(rows["revenue"].sum())
        value_mean = revenue / n_conversions if n_conversions > 0 else math.nan
        with_conversions = rows[rows["conversions"] > 0]
        if n_conversions > 1 and np.isfinite(value_mean):
            deviation = with_conversions["revenue"] - with_conversions["conversions"] * value_mean
            variance = float(np.sum(deviation ** 2) / max(n_conversions - 1, 1.0))
            value_sigma = math.sqrt(math.log1p(variance / value_mean ** 2))
            se_value = math.sqrt(variance / n_conversions)
        else:
            value_sigma, se_value = math.nan, math.nan
        segment_rows[segment] = {"clicks": n_clicks, "arrived": arrived, "conversions": n_conversions,
                                 "effective_clicks": effective_clicks, "cvr": cvr, "value_mean": value_mean,
                                 "value_sigma": value_sigma, "se_value": se_value}

    # Competition per channel, from the win rate and the price paid at the bids used.
    base_campaigns = _named(base_scenario.get("campaigns")) if base_scenario else {}
    for channel, spec in zip(channels, scenario_channels):
        if channel not in reported_channels:
            continue
        base_channel = base_channels.get(channel, {})
        base_competition = dict(base_channel.get("competition", {}))
        competitors = int(base_competition.get("competitors", DEFAULT_COMPETITORS))
        auction = spec["auction"]
        kind = auction if isinstance(auction, str) else auction.get("type", "second_price")
        slots = (3 if isinstance(auction, str) else int(auction.get("slots", 3))) if kind == "gsp" else 1
        rows = frame[(frame["channel"] == channel) & frame["_bids"].notna() & (frame["_bids"] > 0)].copy()
        if "bid" in rows.columns:
            rows = rows[rows["bid"].notna() & (rows["bid"] > 0)]
        else:
            rows = rows.iloc[0:0]
        # Where two of our campaigns bid in the same auctions each is part of the other's competition, which
        # the model does not describe: such cells are left out when cells with one bidding campaign remain.
        bidding = rows.groupby(["time", "segment"])["campaign"].transform("nunique")
        shared_rows = int((bidding > 1).sum())
        left_out = 0 < shared_rows < len(rows)
        if left_out:
            rows = rows[bidding == 1]
        click_billed = billing[channel] == "click"
        observations = pd.DataFrame()
        if not rows.empty:
            rows["_q"] = [float(ctr.get(s, np.nan) * factor.get(channel, 1.0)) if click_billed else 1.0
                          for s in rows["segment"]]
            rows["_bid_level"] = rows["bid"].round(6)
            grouped = rows.groupby(["segment", "_bid_level"]).agg(
                bids=("_bids", "sum"), wins=("impressions", "sum"), clicks=("clicks", "sum"),
                spend=("spend", "sum"), q=("_q", "first")).reset_index()
            grouped = grouped[grouped["q"].notna() & (grouped["q"] > 0)]
            observations = pd.DataFrame({
                "score": grouped["_bid_level"] * grouped["q"],
                "floor": spec["floor"] * grouped["q"] if click_billed else spec["floor"],
                "bids": grouped["bids"], "wins": grouped["wins"],
                "n_price": grouped["clicks"] if click_billed else grouped["wins"],
                "price": (grouped["spend"] / grouped["clicks"].replace(0, np.nan) * grouped["q"]) if click_billed
                else grouped["spend"] / grouped["wins"].replace(0, np.nan)})
        fit = None
        if not observations.empty:
            typical_price = float(np.nanmedian(observations["price"])) if observations["price"].notna().any() \
                else float(observations["score"].median())
            fit = _fit_competition(observations, competitors, slots, kind == "first_price",
                                   (math.log(max(typical_price, 1e-9)), math.log(DEFAULT_SIGMA)))
        competition: Dict[str, Any] = {"competitors": competitors}
        if fit is None:
            for key in ("median", "mu", "sigma"):
                if key in base_competition:
                    competition[key] = base_competition[key]
            if "median" not in competition and "mu" not in competition:
                typical = float(np.nanmedian(rows["spend"] / rows["impressions"].replace(0, np.nan))) \
                    if not rows.empty else 0.001
                competition["median"] = typical if np.isfinite(typical) and typical > 0 else 0.001
            competition.setdefault("sigma", DEFAULT_SIGMA)
            reason = ("no rows with a bid and bids or win_rate" if observations.empty
                      else "fewer distinct bid levels than parameters (first price: two bid levels are needed)")
            entries.append(FitEntry(f"channels.{channel}.competition", dict(competition), math.nan, "",
                                    f"not identified ({reason}): {'base' if base_competition else 'defaults'}",
                                    identified=False))
            channel_comments[channel]["competition"] = f"NOT IDENTIFIED ({reason})"
        else:
            if click_billed:
                # The scores are bid x estimated click rate: an error common to the click rates shifts mu by its
                # log (scores and prices scale together), so their uncertainty adds to mu's.
                weights = observations["wins"].to_numpy() / max(float(observations["wins"].sum()), 1.0)
                segment_clicks = np.array([max(float(total_clicks.get(s, 0.0)), 1.0) for s in grouped["segment"]])
                relative_factor = 0.0 if channel == reference else 1.0 / max(float(clicks.loc[channel].sum()), 1.0)
                variance_log_q = relative_factor + float(np.sum(weights ** 2 / segment_clicks))
                fit["se_mu"] = math.sqrt(fit["se_mu"] ** 2 + variance_log_q)
            competition["median"] = float(math.exp(fit["mu"]))
            competition["sigma"] = float(fit["sigma"])
            what = (f"win rate and {'price per click' if click_billed else 'price per impression'} at "
                    f"{fit['observations']} (segment, bid) levels")
            note = (f"K = {competitors} fixed ({'base' if 'competitors' in base_competition else 'default'}); "
                    f"chi2/dof {fit['chi_square']:.1f}/{fit['dof']}, SE scaled by {math.sqrt(fit['dispersion']):.2f}")
            if shared_rows:
                note += (f"; {shared_rows} rows where several of our campaigns bid in the same auctions "
                         + ("left out" if left_out else "kept: the fit includes our own bids as competition"))
            entries.append(FitEntry(f"channels.{channel}.competition.mu", fit["mu"], fit["se_mu"], what, note))
            entries.append(FitEntry(f"channels.{channel}.competition.sigma", fit["sigma"], fit["se_sigma"], what,
                                    note))
            channel_comments[channel]["competition"] = (
                f"mu {fit['mu']:.4f} (SE {_number(fit['se_mu'])}), sigma SE {_number(fit['se_sigma'])}; "
                f"K fixed at {competitors}")
        entries.append(FitEntry(f"channels.{channel}.competition.competitors", competitors, math.nan, "",
                                "not identified separately from mu and sigma: "
                                + ("from the base" if "competitors" in base_competition else "the default 5"),
                                identified=False))
        spec["competition"] = competition

    # Segments.
    scenario_segments: List[Dict[str, Any]] = []
    segment_comments: Dict[str, Dict[str, str]] = {}
    for segment in segments:
        base_segment = dict(base_segments.get(segment, {}))
        segment_spec: Dict[str, Any] = {"name": segment}
        segment_notes: Dict[str, str] = {}
        segment_spec["users"] = int(base_segment.get("users", DEFAULT_USERS))
        segment_notes["users"] = "from the base scenario" if "users" in base_segment else "not identified: default"
        entries.append(FitEntry(f"segments.{segment}.users", segment_spec["users"], math.nan, "",
                                "not identified (reports have no user counts): "
                                + ("from the base" if "users" in base_segment else f"default {DEFAULT_USERS}"),
                                identified=False))
        if "features" in base_segment:
            segment_spec["features"] = base_segment["features"]
        if segment not in reported_segments:
            for key in ("share", "ctr", "cvr", "conversion_value", "conversion_delay"):
                if key in base_segment:
                    segment_spec[key] = base_segment[key]
            entries.append(FitEntry(f"segments.{segment}", "from base", math.nan, "",
                                    "segment not in the report: kept from the base", identified=False))
            scenario_segments.append(segment_spec)
            segment_comments[segment] = segment_notes
            continue
        segment_spec["share"] = {c: round(v, 6) for c, v in shares[segment].items()} or 0
        n_clicks = float(total_clicks.get(segment, 0.0))
        n_impressions = float(effective_impressions.get(segment, 0.0))
        a, b = n_clicks + 0.5, max(n_impressions - n_clicks, 0.0) + 0.5
        ctr_mean = a / (a + b)
        ctr_se = math.sqrt(ctr_mean * (1 - ctr_mean) / (a + b + 1))
        segment_spec["ctr"] = {"beta": [round(a, 3), round(b, 3)]}
        segment_notes["ctr"] = f"mean {_number(ctr_mean)}, SE {_number(ctr_se)}: {int(n_clicks)} clicks"
        entries.append(FitEntry(f"segments.{segment}.ctr", ctr_mean, ctr_se,
                                f"{int(n_clicks)} clicks / {n_impressions:.0f} impressions (weighted by ctr_factor)",
                                "written as Beta(clicks + 1/2, impressions - clicks + 1/2)"))
        info = segment_rows[segment]
        a, b = info["conversions"] + 0.5, max(info["effective_clicks"] - info["conversions"], 0.0) + 0.5
        cvr_mean = a / (a + b)
        cvr_se = math.sqrt(cvr_mean * (1 - cvr_mean) / (a + b + 1))
        segment_spec["cvr"] = {"beta": [round(a, 3), round(b, 3)]}
        segment_notes["cvr"] = (f"mean {_number(cvr_mean)}, SE {_number(cvr_se)}: {int(info['conversions'])} "
                           f"conversions / {int(info['clicks'])} clicks, {info['arrived']:.3f} of them arrived")
        entries.append(FitEntry(f"segments.{segment}.cvr", cvr_mean, cvr_se,
                                f"{int(info['conversions'])} conversions / {int(info['clicks'])} clicks",
                                f"corrected for conversions not yet arrived ({info['arrived']:.3f} of the clicks' "
                                "conversions arrived under the delay model)"))
        if np.isfinite(info["value_mean"]):
            value_spec: Dict[str, Any] = {"distribution": "lognormal", "mean": round(info["value_mean"], 4)}
            entries.append(FitEntry(f"segments.{segment}.conversion_value.mean", info["value_mean"],
                                    info["se_value"], "revenue / conversions", ""))
            if np.isfinite(info["value_sigma"]):
                value_spec["sigma"] = round(info["value_sigma"], 4)
                entries.append(FitEntry(f"segments.{segment}.conversion_value.sigma", info["value_sigma"], math.nan,
                                        "spread of revenue per row around conversions x mean",
                                        "lognormal with that variance; no standard error"))
            segment_spec["conversion_value"] = value_spec
            segment_notes["conversion_value"] = f"mean SE {_number(info['se_value'])}"
        else:
            segment_spec["conversion_value"] = base_segment.get("conversion_value", 50)
            entries.append(FitEntry(f"segments.{segment}.conversion_value", segment_spec["conversion_value"], math.nan, "",
                                    "not identified (no conversions)", identified=False))
        delay = delays[segment]
        if delay["distribution"] == "exponential":
            segment_spec["conversion_delay"] = {"distribution": "exponential", "mean": _duration(delay["mean_hours"])}
        else:
            segment_spec["conversion_delay"] = {"distribution": "lognormal", "median": _duration(delay["median_hours"]),
                                       "sigma": round(delay["sigma"], 4)}
        segment_notes["conversion_delay"] = ("fitted from the conversion log" if "n" in delay
                                        else "NOT IDENTIFIED: the scenario default")
        scenario_segments.append(segment_spec)
        segment_comments[segment] = segment_notes
    for segment, base_segment in base_segments.items():
        for key in ("propensity_sigma", "creatives", "fatigue", "competition"):
            if key in base_segment:
                entries.append(FitEntry(f"segments.{segment}.{key}", "dropped", math.nan, "",
                                        "market truth of the base, not identified from the report", identified=False))

    # Campaigns: the base's, or one per campaign of the report.
    campaign_comment = "from the base scenario"
    if base_scenario is not None:
        campaigns = base_scenario.get("campaigns", [])
        missing = sorted(set(frame["campaign"]) - set(base_campaigns))
        if missing:
            entries.append(FitEntry("campaigns", ", ".join(missing), math.nan, "",
                                    "campaigns of the report not in the base: not added", identified=False))
    else:
        campaign_comment = "built from the report: edit bids, budgets, goals and strategies"
        campaigns = []
        for campaign, rows in frame.groupby("campaign", sort=False):
            campaign_spec: Dict[str, Any] = {"name": campaign, "channels": sorted(rows["channel"].unique()),
                                    "segments": sorted(rows["segment"].unique())}
            bids = rows["bid"].dropna() if "bid" in rows.columns else pd.Series(dtype=float)
            if bids.empty:
                spend = rows["spend"].sum()
                units = rows["impressions"].sum()
                campaign_spec["bid"] = round(float(spend / units) if units > 0 else 0.001, 6)
            else:
                campaign_spec["bid"] = round(float(bids.median()), 6)
            daily = rows.groupby(rows["time"].dt.floor("1d"))["spend"].sum().max()
            campaign_spec["budget"] = {"daily": round(float(daily), 2)}
            campaigns.append(campaign_spec)
    kept_sections: Dict[str, Any] = {}
    if base_scenario is not None:
        for key in ("guardrails", "controllers", "monitors", "alert_grace", "experiments", "account_budget",
                    "recording", "oracle"):
            if key in base_scenario:
                kept_sections[key] = base_scenario[key]
        if "shocks" in base_scenario:
            entries.append(FitEntry("shocks", "dropped", math.nan, "",
                                    "shocks of the base are not carried over: the history's events are averaged "
                                    "into the fitted parameters", identified=False))
    duration_hours = hours
    scenario: Dict[str, Any] = {
        "name": name,
        "seed": seed,
        "start": start.strftime("%Y-%m-%dT%H:%M:%S"),
        "duration": _duration(duration_hours) if duration_hours % 24 else f"{int(duration_hours // 24)}d",
        "bucket": (base_scenario or {}).get("bucket", "1h"),
        "control_cycle": (base_scenario or {}).get("control_cycle", "15m"),
        "channels": scenario_channels,
        "segments": scenario_segments,
        "campaigns": campaigns,
    }
    scenario.update(kept_sections)
    text = _render(scenario, source_name, frame, step, channel_comments, segment_comments, campaign_comment,
                   base_scenario is not None)
    from ._run import validate

    try:
        validate(text)
    except ConfigError as error:
        raise InvariantError(f"calibrate: the calibrated scenario does not validate (a bug): {error}") from error
    return Calibration(scenario=scenario, text=text, entries=entries, source=source_name)


# ----------------------------------------------------------------------------------------------------------------
# Writing the scenario as commented YAML


def _flow(value: Any) -> str:
    import yaml  # type: ignore[import]  # PyYAML (no stubs in Debian)

    # Dumped as the value of a one-key mapping: a bare scalar would get YAML's document end marker ("...").
    text = yaml.safe_dump({"x": value}, default_flow_style=True, sort_keys=False, width=100000).strip()
    return text[len("{x: "):-1]


def _line(indent: str, key: str, value: Any, comment: Optional[str]) -> str:
    text = f"{indent}{key}: {_flow(value)}"
    return f"{text}   # {comment}" if comment else text


def _render(scenario: Dict[str, Any], source: str, frame: pd.DataFrame, step: str,
            channel_comments: Dict[str, Dict[str, str]], segment_comments: Dict[str, Dict[str, str]],
            campaign_comment: str, with_base: bool) -> str:
    import yaml  # type: ignore[import]  # PyYAML (no stubs in Debian)

    lines = [
        f"# Calibrated by adsim calibrate from {source}: {len(frame)} {'hourly' if step == '1h' else 'daily'} rows,",
        f"# {frame['time'].min()} to {frame['time'].max()}. Fitted numbers carry their standard error (SE) in a",
        "# comment; the fit report lists what came from what and the defaults used. Rates are Beta",
        "# distributions: each run draws them from its seed, so a sweep covers their uncertainty.",
        f"name: {_flow(scenario['name'])}",
        f"seed: {scenario['seed']}",
        f"start: \"{scenario['start']}\"   # the first row of the history",
        f"duration: {scenario['duration']}   # the length of the history",
        f"bucket: {scenario['bucket']}",
        f"control_cycle: {scenario['control_cycle']}",
        "",
        "channels:",
    ]
    for channel in scenario["channels"]:
        comments = channel_comments.get(channel["name"], {})
        lines.append(f"  - name: {_flow(channel['name'])}")
        for key in ("auction", "billing", "floor", "quality_half_life", "ctr_factor"):
            if key in channel:
                comment = comments.get(key)
                if key == "ctr_factor":
                    comment = "click rates on this channel relative to the reference channel (1)"
                lines.append(_line("    ", key, channel[key], comment))
        if "traffic" in channel:
            traffic = channel["traffic"]
            lines.append("    traffic:" + (f"   # {comments['traffic']}" if "traffic" in comments else ""))
            for key in ("per_hour", "hour_of_day", "day_of_week"):
                if key in traffic:
                    value = round(traffic[key], 2) if key == "per_hour" else traffic[key]
                    lines.append(_line("      ", key, value, comments.get(key)))
        if "competition" in channel:
            lines.append(_line("    ", "competition", channel["competition"], comments.get("competition")))
    lines += ["", "segments:"]
    for segment in scenario["segments"]:
        comments = segment_comments.get(segment["name"], {})
        lines.append(f"  - name: {_flow(segment['name'])}")
        for key in ("users", "share", "features", "ctr", "cvr", "conversion_value", "conversion_delay"):
            if key in segment:
                lines.append(_line("    ", key, segment[key], comments.get(key)))
    lines += ["", f"# Campaigns: {campaign_comment}."]
    lines.append(yaml.safe_dump({"campaigns": scenario["campaigns"]}, sort_keys=False,
                                default_flow_style=None, width=100).rstrip())
    rest = {k: v for k, v in scenario.items() if k in ("guardrails", "controllers", "monitors", "alert_grace",
                                                          "experiments", "account_budget", "recording", "oracle")}
    if rest:
        lines += ["", "# From the base scenario."]
        lines.append(yaml.safe_dump(rest, sort_keys=False, default_flow_style=None, width=100).rstrip())
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------------------------------
# adsim's own results as history


def _text(values: Any) -> List[str]:
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def _bid_timeline(result: Any) -> Dict[Tuple[int, int], Tuple[np.ndarray, np.ndarray]]:
    """(campaign, segment) -> (times, placed base bid x segment modifier) from the campaigns and actions tables."""
    campaigns = result.raw("campaigns")
    segments = len(result.raw("segments")["name"])
    actions = result.raw("actions")
    kinds = np.asarray(_text(actions["kind"]), dtype=str)
    statuses = np.asarray(_text(actions["status"]), dtype=str)
    in_force = np.isin(statuses, ["applied", "clamped", "approved"])
    times = np.asarray(actions["time"], dtype=np.int64)
    action_campaigns = np.asarray(actions["campaign"], dtype=np.int64)
    action_segments = np.asarray(actions["segment"], dtype=np.int64)
    new_values = np.asarray(actions["new"], dtype=float)
    timeline: Dict[Tuple[int, int], Tuple[np.ndarray, np.ndarray]] = {}
    for campaign in range(len(campaigns["bid"])):
        bid_rows = np.flatnonzero(in_force & (action_campaigns == campaign) & (kinds == "set_bid"))
        for segment in range(segments):
            modifier_rows = np.flatnonzero(in_force & (action_campaigns == campaign) & (action_segments == segment)
                                           & (kinds == "set_segment_modifier"))
            # Actions in the order they were applied: a stable sort by time keeps that order within a cycle.
            rows = sorted([(times[i], i, "bid") for i in bid_rows] + [(times[i], i, "modifier") for i in modifier_rows])
            bid, modifier = float(campaigns["bid"][campaign]), 1.0
            points, values = [0], [bid]
            for time, index, kind in rows:
                if kind == "bid":
                    bid = new_values[index]
                else:
                    modifier = new_values[index]
                points.append(int(time))
                values.append(bid * modifier)
            timeline[(campaign, segment)] = (np.asarray(points, dtype=np.int64), np.asarray(values))
    return timeline


def history_report(result: Any, step: str = "1h") -> pd.DataFrame:
    """A history report (the input of :func:`calibrate`) from an adsim :class:`Result`.

    One row per time step (``"1h"`` or ``"1d"``), campaign, channel and segment
    with activity, from the ``aggregates`` table: requests (bid requests
    received), bids, impressions, clicks, conversions (reported, at their
    arrival), spend, revenue, win_rate = impressions / bids, and bid: the
    campaign's base bid times its segment modifier, time-averaged over the
    step from the ``actions`` table. The bid is empty (NaN) for campaigns
    whose bidder is not ``fixed`` (their bids are not recorded per request).
    """
    if step not in ("1h", "1d"):
        raise ConfigError(f"history_report: step: expected '1h' or '1d', found {step!r}")
    raw = result.raw("aggregates")
    step_us = 3600 * 10**6 if step == "1h" else 86400 * 10**6
    if result.attrs["bucket_us"] > step_us or step_us % int(result.attrs["bucket_us"]):
        raise ConfigError(f"history_report: step {step} is not a multiple of the result's bucket "
                          f"({int(result.attrs['bucket_us'])} us)")
    frame = pd.DataFrame({key: raw[key] for key in ("campaign", "channel", "segment", "opportunities", "bids",
                                                    "impressions", "clicks", "conversions", "spend")})
    frame["revenue"] = raw["conversion_value"]
    start = pd.Timestamp(result.attrs["start"])
    if step == "1d":
        day_offset = (start - start.floor("1d")) // pd.Timedelta("1us")
        frame["_step"] = (raw["bucket_start"] + day_offset) // step_us * step_us - day_offset
        frame["_step"] = frame["_step"].clip(lower=0)
    else:
        frame["_step"] = raw["bucket_start"] // step_us * step_us
    keys = ["_step", "campaign", "channel", "segment"]
    grouped = frame.groupby(keys, sort=True)[["opportunities", "bids", "impressions", "clicks", "conversions",
                                              "spend", "revenue"]].sum().reset_index()
    duration_us = int(result.attrs["duration_us"])
    timeline = _bid_timeline(result)
    bidders = _text(result.raw("campaigns")["bidder"])
    bid = np.full(len(grouped), np.nan)
    for row, (time, campaign, segment) in enumerate(zip(grouped["_step"], grouped["campaign"], grouped["segment"])):
        if bidders[campaign] != "fixed":
            continue
        times, values = timeline[(int(campaign), int(segment))]
        low, high = int(time), min(int(time) + step_us, duration_us)
        edges = np.clip(np.append(times, high), low, high)
        widths = np.diff(edges)
        bid[row] = float(np.sum(widths * values) / max(high - low, 1))
    channel_names = list(result.channels["name"])
    segment_names = list(result.segments["name"])
    campaign_names = list(result.campaigns["name"])
    report = pd.DataFrame({
        "time": start + pd.to_timedelta(grouped["_step"], unit="us"),
        "campaign": [campaign_names[i] for i in grouped["campaign"]],
        "channel": [channel_names[i] for i in grouped["channel"]],
        "segment": [segment_names[i] for i in grouped["segment"]],
        "requests": grouped["opportunities"].astype(np.int64),
        "bids": grouped["bids"].astype(np.int64),
        "impressions": grouped["impressions"].astype(np.int64),
        "clicks": grouped["clicks"].astype(np.int64),
        "conversions": grouped["conversions"].astype(np.int64),
        "spend": grouped["spend"].round(6),
        "revenue": grouped["revenue"].round(6),
        "win_rate": (grouped["impressions"] / grouped["bids"].where(grouped["bids"] > 0)).round(8),
        "bid": np.round(bid, 6),
    })
    return report


def conversion_log(result: Any) -> pd.DataFrame:
    """The conversions an advertiser saw (``reported``), as a conversion log for :func:`calibrate`."""
    raw = result.raw("conversions")
    reported = raw["reported"].astype(bool)
    start = pd.Timestamp(result.attrs["start"])
    channel_names = list(result.channels["name"])
    segment_names = list(result.segments["name"])
    campaign_names = list(result.campaigns["name"])
    return pd.DataFrame({
        "click_time": start + pd.to_timedelta(raw["click_time"][reported], unit="us"),
        "conversion_time": start + pd.to_timedelta(raw["time"][reported], unit="us"),
        "campaign": [campaign_names[i] for i in raw["campaign"][reported]],
        "channel": [channel_names[i] for i in raw["channel"][reported]],
        "segment": [segment_names[i] for i in raw["segment"][reported]],
        "value": raw["value"][reported],
    }).sort_values("conversion_time", kind="stable").reset_index(drop=True)


__all__ = ["calibrate", "Calibration", "FitEntry", "read_report", "read_conversions", "history_report",
           "conversion_log", "REPORT_COLUMNS", "OPTIONAL_COLUMNS", "CONVERSION_COLUMNS"]
