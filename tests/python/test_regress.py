"""Strategy regression checks (docs/regression.md): the paired tests' statistics, adsim.testing's
assertions on real runs, the baseline file, `adsim regress` and its exit codes, the example project."""

from __future__ import annotations

import copy
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import adsim
from adsim import _regress
from adsim.testing import adsim_regression  # noqa: F401  (the plugin's fixture, used below)
from adsim.testing import assert_equivalent, assert_not_worse, compare_not_worse, per_seed

REPO = Path(__file__).resolve().parents[2]

# A bid-limited campaign: its budget (1000 a day) never binds, so what it wins is set by its bid
# against 5 competitors with median 0.002. Small so that 2 x 20 runs take a few seconds.
BID_LIMITED = {
    "name": "bid_limited",
    "seed": 1,
    "duration": "12h",
    "bucket": "1h",
    "control_cycle": "1h",
    "channels": [{"name": "display", "traffic": {"per_hour": 4000},
                  "competition": {"competitors": 5, "median": 0.002, "sigma": 0.5}}],
    "segments": [{"name": "everyone", "users": 20000, "ctr": 0.03, "cvr": 0.1,
                  "conversion_delay": {"distribution": "exponential", "mean": "30m"}}],
    "campaigns": [{"name": "one", "bid": 0.004, "budget": {"daily": 1000}}],
}
HALVED = {"campaigns[one].bid": 0.002}
SEEDS = list(range(1, 21))


def standardized(n: int, seed: int) -> np.ndarray:
    """n normal draws rescaled to sample mean 0 and sample standard deviation 1 exactly."""
    z = np.random.default_rng(seed).standard_normal(n)
    return (z - z.mean()) / z.std(ddof=1)


# ---------------------------------------------------------------- the statistics


def test_the_tolerance_is_the_paired_standard_error_not_a_percentage():
    # Same mean CPA increase (+1.0 on a baseline of 20, i.e. +5%) over n = 30 seeds. The verdict
    # depends on the SE of the paired differences: t = 1.0 / (sd / sqrt(30)) against
    # t_{0.95, 29} = 1.699. sd = 5.477 -> SE = 1.0, t = 1.0: within noise, passes;
    # sd = 1.095 -> SE = 0.2, t = 5.0: fails.
    n, baseline = 30, np.full(30, 20.0)
    for sd, expected in ((math.sqrt(30), "ok"), (math.sqrt(30) / 5, "worse")):
        candidate = baseline + 1.0 + sd * standardized(n, 3)
        result = _regress.not_worse(candidate, baseline, "cpa", alpha=0.05)
        assert result.se == pytest.approx(sd / math.sqrt(n))
        assert result.mean_diff == pytest.approx(1.0)
        assert result.verdict == expected, result.describe()


def test_direction_of_worse_per_metric():
    baseline = np.full(10, 10.0)
    lower = baseline - 1.0 + 0.01 * standardized(10, 1)  # clearly lower on every seed
    assert _regress.not_worse(lower, baseline, "cpa").verdict == "ok"  # lower CPA is better
    assert _regress.not_worse(lower, baseline, "conversions").verdict == "worse"
    assert _regress.not_worse(lower, baseline, "roas").verdict == "worse"
    assert _regress.not_worse(lower, baseline, "spend").verdict == "no direction"


def test_false_alarm_rate_under_the_null_is_alpha():
    # 4000 replications of n = 20 paired differences with mean 0: the one-sided test rejects with
    # probability alpha = 0.05; binomial SE = sqrt(0.05 * 0.95 / 4000) = 0.0034; allow 4.5 SE.
    rng = np.random.default_rng(11)
    rejections = sum(_regress.not_worse(rng.normal(0, 2, 20), np.zeros(20), "cpa").verdict == "worse"
                     for _ in range(4000))
    assert abs(rejections / 4000 - 0.05) < 4.5 * math.sqrt(0.05 * 0.95 / 4000)


def test_tost_at_the_margin_rejects_at_most_alpha():
    # True mean difference exactly at the margin: TOST may declare equivalence with probability
    # at most alpha (exactly alpha in the limit of a large SE ratio); 4000 replications, 4.5 SE.
    rng = np.random.default_rng(12)
    hits = sum(_regress.equivalent(rng.normal(1.0, 2, 20), np.zeros(20), "cpa", margin=1.0).verdict == "equivalent"
               for _ in range(4000))
    assert hits / 4000 < 0.05 + 4.5 * math.sqrt(0.05 * 0.95 / 4000)


def test_tost_is_the_confidence_interval_inside_the_margin():
    # d = 0.2 + 0.5 z (n = 25): SE = 0.1, 90% CI = 0.2 +- 1.711 * 0.1 = [0.029, 0.371].
    d = 0.2 + 0.5 * standardized(25, 5)
    assert _regress.equivalent(d, np.zeros(25), "cpa", margin=0.4).verdict == "equivalent"
    assert _regress.equivalent(d, np.zeros(25), "cpa", margin=0.35).verdict == "not equivalent"


def test_undefined_values_are_dropped_pairwise_and_counted():
    candidate = [1.0, np.nan, 2.0, 3.0]
    baseline = [1.0, 1.0, np.nan, 3.0]
    result = _regress.not_worse(candidate, baseline, "cpa")
    assert (result.n, result.dropped) == (2, 2)


# ---------------------------------------------------------------- adsim.testing on real runs


@pytest.fixture(scope="module")
def bid_runs():
    """Conversions and CPA per seed of the campaign at its bid and at half of it (same seeds)."""
    full = {m: per_seed(BID_LIMITED, m, SEEDS) for m in ("conversions", "cpa")}
    half = {m: per_seed(HALVED, m, SEEDS, scenario=BID_LIMITED) for m in ("conversions", "cpa")}
    return full, half


def test_a_halved_bid_on_a_bid_limited_campaign_fails_not_worse(bid_runs):
    full, half = bid_runs
    assert half["conversions"].mean() < 0.7 * full["conversions"].mean()  # the premise: far fewer wins
    with pytest.raises(AssertionError) as raised:
        assert_not_worse(half["conversions"], full["conversions"], metric="conversions")
    assert "conversions" in str(raised.value) and "worse" in str(raised.value) and "CI" in str(raised.value)


def test_the_same_strategy_passes_and_is_equivalent(bid_runs):
    full, _ = bid_runs
    again = per_seed(copy.deepcopy(BID_LIMITED), "conversions", SEEDS)  # a rerun: same seeds, same numbers
    assert again.equals(full["conversions"])
    result = assert_not_worse(again, full["conversions"], metric="conversions")
    assert result.mean_diff == 0 and result.verdict == "ok"
    assert assert_equivalent(again, full["conversions"], metric="conversions", margin=0.5).verdict == "equivalent"


def test_clearly_different_strategies_are_not_equivalent(bid_runs):
    full, half = bid_runs
    with pytest.raises(AssertionError, match="not shown equivalent"):
        assert_equivalent(half["conversions"], full["conversions"], metric="conversions", margin=1.0)


def test_one_line_assertion_runs_scenarios_and_patches():
    # The halved bid, given as a patch of the scenario, end to end (runs both sides on 8 seeds).
    with pytest.raises(AssertionError, match="conversions"):
        assert_not_worse(HALVED, {}, metric="conversions", seeds=8, scenario=BID_LIMITED)
    # Reversed, the full bid is not worse than the halved one.
    assert assert_not_worse({}, HALVED, metric="conversions", seeds=8, scenario=BID_LIMITED).verdict == "ok"


def test_values_on_different_seeds_are_not_paired():
    with pytest.raises(ValueError, match="same seeds"):
        compare_not_worse(pd.Series([1.0, 2.0], index=[1, 2]), pd.Series([1.0, 2.0], index=[3, 4]), metric="cpa")


def test_a_metric_without_a_direction_needs_one():
    with pytest.raises(ValueError, match="direction"):
        compare_not_worse(pd.Series([1.0, 2.0]), pd.Series([1.0, 2.0]), metric="spend")
    assert compare_not_worse(pd.Series([1.0, 2.0]), pd.Series([1.0, 2.0]), metric="spend", direction=1).verdict == "ok"


# ---------------------------------------------------------------- the baseline file and the command


def make_project(tmp_path: Path, seeds=(1, 2, 3, 4, 5, 6)) -> Path:
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(BID_LIMITED))
    baseline = {"format": 1, "note": "test", "seeds": list(seeds), "metrics": ["spend", "conversions", "cpa"],
                "cases": [{"name": "full_bid", "scenario": "scenario.yaml"},
                          {"name": "pid", "scenario": "scenario.yaml",
                           "strategy": {"campaigns[one].controllers": [{"type": "pid_pacing"}]}}]}
    path = tmp_path / "baseline.yaml"
    path.write_text(yaml.safe_dump(baseline, sort_keys=False))
    return path


def regress(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "adsim", "regress", *arguments], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A baseline written by `adsim regress --update` (through the C++ command line)."""
    folder = tmp_path_factory.mktemp("project")
    path = make_project(folder)
    cli = Path(os.environ.get("ADSIM_BUILD_DIR", REPO / "build")) / "adsim"
    done = subprocess.run([str(cli), "regress", str(path), "--update"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "ADSIM_PYTHON": sys.executable})
    assert done.returncode == 0, done.stderr
    assert "updated 2 case(s)" in done.stdout
    return path


def test_the_baseline_is_readable_text_one_kpi_per_line(project):
    text = project.read_text()
    lines = text.splitlines()
    kpi_lines = [line for line in lines if "per_seed:" in line]
    assert len(kpi_lines) == 2 * 3  # 2 cases x 3 metrics, each on one line
    assert f"adsim_version: \"{adsim.__version__}\"" in lines
    baseline = _regress.read_baseline(project)
    case = baseline.cases[0]
    assert sorted(case.fingerprints) == [1, 2, 3, 4, 5, 6]
    # The stored per-seed values are the runs' exact values (shortest round-trip floats).
    run = adsim.run(BID_LIMITED, seed=4)
    assert case.values["one"]["cpa"][3] == run.kpis()["cpa"][0]
    assert case.fingerprints[4] == run.fingerprint


def test_regress_passes_on_an_unchanged_strategy_and_exact_mode(project):
    done = regress(str(project), "--exact")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fingerprints: all 6 unchanged" in done.stdout and "regress: ok (2 case(s)" in done.stdout


def test_regress_fails_with_a_report_when_a_strategy_got_worse(project, tmp_path):
    data = yaml.safe_load(project.read_text())
    data["cases"][0]["strategy"] = HALVED  # what a broken change to the strategy would do
    worse = tmp_path / "baseline.yaml"
    shutil.copy(project.parent / "scenario.yaml", tmp_path / "scenario.yaml")
    worse.write_text(yaml.safe_dump(data, sort_keys=False))
    done = regress(str(worse), "--only", "full_bid")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "WORSE one.conversions" in done.stdout and "p = " in done.stdout and "mean diff" in done.stdout
    assert "FAILED: full_bid" in done.stdout and "--update" in done.stdout


def test_exact_mode_fails_when_any_number_moves(project, tmp_path):
    # A bid 2.5% higher wins other auctions: every seed's tables, so its fingerprint, change.
    data = yaml.safe_load(project.read_text())
    data["cases"][0]["strategy"] = {"campaigns[one].bid": 0.0041}
    changed = tmp_path / "baseline.yaml"
    shutil.copy(project.parent / "scenario.yaml", tmp_path / "scenario.yaml")
    changed.write_text(yaml.safe_dump(data, sort_keys=False))
    done = regress(str(changed), "--only", "full_bid", "--exact")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "fingerprint" in done.stdout and "seed 1: fingerprint" in done.stdout


def test_the_fixture_checks_a_baseline(project, adsim_regression):  # noqa: F811
    reports = adsim_regression(project, only=["pid"])
    assert [r.name for r in reports] == ["pid"] and not reports[0].worse


def test_update_rewrites_only_the_named_case(project, tmp_path):
    copy_path = tmp_path / "baseline.yaml"
    shutil.copy(project, copy_path)
    shutil.copy(project.parent / "scenario.yaml", tmp_path / "scenario.yaml")
    data = yaml.safe_load(copy_path.read_text())
    data["cases"][1]["strategy"] = {"campaigns[one].bid": 0.002}
    copy_path.write_text(yaml.safe_dump(data, sort_keys=False))
    before = _regress.read_baseline(copy_path)
    done = regress(str(copy_path), "--update", "--only", "pid")
    assert done.returncode == 0, done.stderr
    after = _regress.read_baseline(copy_path)
    assert after.cases[0].values == before.cases[0].values
    assert np.mean(after.cases[1].values["one"]["conversions"]) < np.mean(before.cases[1].values["one"]["conversions"])


@pytest.mark.parametrize("mutation, expected", [
    (lambda d: d.pop("seeds"), "seeds: expected a list of at least 2 whole numbers"),
    (lambda d: d.update(format=9), "format: expected 1"),
    (lambda d: d.update(metrics=["cpa", "happiness"]), "metrics: expected a list of KPI names"),
    (lambda d: d["cases"][0].update(strategy=[1]), "cases[0].strategy: expected a mapping"),
    (lambda d: d["cases"][1].update(name="full_bid"), "cases[1].name: expected a name no other case has"),
    (lambda d: d["cases"][0]["kpis"]["one"]["cpa"]["per_seed"].pop(), "cases[0].kpis.one.cpa.per_seed: expected 6"),
])
def test_a_bad_baseline_is_a_clear_error_naming_file_and_field(project, tmp_path, mutation, expected):
    data = yaml.safe_load(project.read_text())
    mutation(data)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, sort_keys=False))
    done = regress(str(bad))
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"baseline '{bad}'" in done.stderr and expected in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_usage_errors(project, tmp_path):
    done = regress(str(project), "--only", "nope")
    assert done.returncode == 2 and "no case named nope; cases: full_bid, pid" in done.stderr
    done = regress(str(project), "--alpha", "0.7")
    assert done.returncode == 2 and "--alpha" in done.stderr
    done = regress(str(tmp_path / "missing.yaml"))
    assert done.returncode == 3 and "missing.yaml" in done.stderr
    (tmp_path / "text.yaml").write_text("cases: [\n")
    done = regress(str(tmp_path / "text.yaml"))
    assert done.returncode == 3 and "not valid YAML" in done.stderr


def test_a_failed_update_leaves_the_old_baseline_whole(project, tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    shutil.copy(project, folder / "baseline.yaml")
    (folder / "scenario.yaml").write_text(yaml.safe_dump({**BID_LIMITED, "duration": "-1d"}))
    before = (folder / "baseline.yaml").read_text()
    done = regress(str(folder / "baseline.yaml"), "--update")
    assert done.returncode == 2 and "duration" in done.stderr, done.stderr
    assert (folder / "baseline.yaml").read_text() == before
    assert sorted(p.name for p in folder.iterdir()) == ["baseline.yaml", "scenario.yaml"]  # no temporary left


def test_patch_paths_name_what_is_wrong():
    with pytest.raises(adsim.ConfigError, match="no entry named 'two'"):
        _regress.apply_patch(BID_LIMITED, {"campaigns[two].bid": 1})
    with pytest.raises(adsim.ConfigError, match="index 3 out of range"):
        _regress.apply_patch(BID_LIMITED, {"campaigns[3].bid": 1})
    patched = _regress.apply_patch(BID_LIMITED, {"campaigns[0].bidder": {"type": "target_cpa"}, "oracle": True})
    assert patched["campaigns"][0]["bidder"] == {"type": "target_cpa"} and patched["oracle"] is True
    assert "bidder" not in BID_LIMITED["campaigns"][0]  # the scenario itself is untouched


def test_per_run_gives_the_sweep_columns():
    runs, kpis = _regress._per_run(BID_LIMITED, [3, 4], {"a": {}, "b": HALVED}, workers=2)
    assert list(runs.columns) == ["run", "variation", "seed", "fingerprint"]
    assert list(runs["variation"]) == ["a", "a", "b", "b"] and list(runs["seed"]) == [3, 4, 3, 4]
    assert list(kpis.columns[:4]) == ["run", "variation", "seed", "campaign"]
    for column in ("spend", "conversions", "value", "cpa", "roas", "budget", "budget_used", "true_conversions"):
        assert column in kpis.columns
    # Thread workers give the runs a plain loop gives.
    again, _ = _regress._per_run(BID_LIMITED, [3, 4], {"a": {}, "b": HALVED}, workers=1)
    assert list(again["fingerprint"]) == list(runs["fingerprint"])


# ---------------------------------------------------------------- adsim's own library, and the example


def test_the_strategy_library_is_not_worse_than_its_baseline(adsim_regression):  # noqa: F811
    """tests/regression/library_baseline.yaml: adsim's strategy stacks on a small scenario. If this
    fails after an intended change, update the baseline on purpose (docs/regression.md) and commit
    the diff with the reason."""
    adsim_regression(REPO / "tests" / "regression" / "library_baseline.yaml", workers=2)


def test_the_example_project_runs_as_is(tmp_path):
    """docs/examples/regression/: the user's CI as its README shows it (pytest in that folder)."""
    example = REPO / "docs" / "examples" / "regression"
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(example)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "passed" in done.stdout and "failed" not in done.stdout
