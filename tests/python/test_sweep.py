"""adsim.sweep, the Sweep, the sweep file, `adsim sweep` and scenario distributions.

The sweeps here run the small scenario cut to 3 simulated hours, so each
test takes a second or two; what they check does not depend on the length.
"""

from __future__ import annotations

import os
import subprocess
import sys

import h5py
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import adsim

from conftest import small_scenario


def short(**changes):
    scenario = small_scenario()
    scenario["duration"] = "3h"
    scenario.update(changes)
    return scenario


def test_results_equal_run_by_run_whatever_the_worker_count():
    one = adsim.sweep(short(), seeds=4, workers=1, progress=False)
    two = adsim.sweep(short(), seeds=4, workers=2, progress=False)
    assert one.runs["fingerprint"].tolist() == two.runs["fingerprint"].tolist()
    pd.testing.assert_frame_equal(one.kpis, two.kpis)
    # Each run is adsim.run of the scenario with that seed.
    for row in one.runs.itertuples():
        assert adsim.run(short(), seed=row.seed).fingerprint == row.fingerprint
    assert one.runs["fingerprint"].nunique() == 4  # four seeds, four different runs


def test_runs_are_consumed_in_order_while_the_workers_go_on():
    # The local sweep summarizes each run as it finishes (run_many's consume):
    # in run order, on the calling thread, and a consumer's error stops it.
    import json
    import threading

    from adsim import _adsim

    text = json.dumps(short())
    seen = []
    main = threading.get_ident()

    def consume(run, raw):
        assert threading.get_ident() == main
        seen.append((run, adsim.Result(raw).fingerprint))

    left = _adsim.run_many([(text, "short", None)], [(0, s) for s in range(1, 6)], 2, None, False, False, consume)
    assert left == []
    assert [run for run, _ in seen] == list(range(5))
    assert [f for _, f in seen] == [adsim.run(short(), seed=s).fingerprint for s in range(1, 6)]

    def fails(run, raw):
        if run == 1:
            raise ValueError("stop at run 1")
        seen.append(run)

    seen.clear()
    with pytest.raises(adsim.Error, match="consumer raised ValueError: stop at run 1") as raised:
        _adsim.run_many([(text, "short", None)], [(0, s) for s in range(1, 6)], 2, None, False, False, fails)
    assert isinstance(raised.value.__cause__, ValueError)  # the consumer's own exception is kept
    assert seen == [0]


def test_runs_and_kpis_layout():
    swept = adsim.sweep(short(), seeds="3-4", progress=False)
    assert swept.runs.columns.tolist()[:4] == ["run", "variation", "seed", "fingerprint"]
    assert swept.runs["seed"].tolist() == [3, 4]
    assert swept.runs["variation"].tolist() == ["base", "base"]
    kpis = swept.kpis
    assert kpis.columns.tolist()[:4] == ["run", "variation", "seed", "campaign"]
    assert kpis["campaign"].tolist() == ["alpha", "beta", "alpha", "beta"]
    for column in ("spend", "conversions", "value", "cpa", "roas", "budget", "budget_used", "true_conversions",
                   "true_value"):
        assert column in kpis.columns, column
    # The KPI rows of a run are Result.kpis() of that run.
    result = adsim.run(short(), seed=4)
    expected = result.kpis()
    got = kpis[kpis["seed"] == 4].reset_index(drop=True)
    np.testing.assert_array_equal(got["spend"].to_numpy(), expected["spend"].to_numpy())
    np.testing.assert_array_equal(got["conversions"].to_numpy(), expected["conversions"].to_numpy())
    # Truth counts every conversion made, reported or not: never fewer than reported.
    assert (got["true_conversions"] >= got["conversions"]).all()


@pytest.mark.parametrize("seeds", [3, "1-3", "1,2,3", range(1, 4), [1, 2, 3]])
def test_seed_forms(seeds):
    assert adsim._sweep.parse_seeds(seeds) == [1, 2, 3]


@pytest.mark.parametrize("seeds", [0, "3-1", "a-b", [1, 1], [1.5], True, "", -2])
def test_bad_seeds_are_config_errors(seeds):
    with pytest.raises(adsim.ConfigError, match="seeds"):
        adsim.sweep(short(), seeds=seeds, progress=False)


def test_grid_is_a_cartesian_product_of_field_paths():
    swept = adsim.sweep(short(), seeds=2, grid={"campaigns[0].bid": [0.003, 0.005]}, progress=False)
    assert len(swept.runs) == 4
    assert swept.runs["campaigns[0].bid"].tolist() == [0.003, 0.003, 0.005, 0.005]
    assert swept.runs["variation"].tolist()[::2] == ["campaigns[0].bid=0.003", "campaigns[0].bid=0.005"]
    # The grid changes the runs; the same seed with the same bid does not.
    assert swept.runs["fingerprint"].nunique() == 4
    scenario = short()
    scenario["campaigns"][0]["bid"] = 0.005
    assert adsim.run(scenario, seed=2).fingerprint == swept.runs["fingerprint"].iloc[3]


def test_variations_patch_or_callable():
    def lower_budget(document):
        document["campaigns"][1]["budget"]["daily"] = 5
        return document

    swept = adsim.sweep(short(duration="6h"), seeds=2, progress=False, variations={
        "base": {},
        "bid": {"campaigns[0].bid": 0.006},
        "budget": lower_budget,
    })
    assert swept.runs["variation"].tolist() == ["base", "base", "bid", "bid", "budget", "budget"]
    beta = swept.kpis[swept.kpis["campaign"] == "beta"]
    # A daily budget of 5 over 6 hours caps beta's spend at 5.
    assert (beta[beta["variation"] == "budget"]["spend"] <= 5 + 1e-9).all()
    assert (beta[beta["variation"] == "base"]["spend"] > 5).all()


def test_bad_grid_path_names_the_field():
    with pytest.raises(adsim.ConfigError, match=r"campaigns\[7\]\.bid"):
        adsim.sweep(short(), seeds=1, grid={"campaigns[7].bid": [0.1]}, progress=False)
    with pytest.raises(adsim.ConfigError, match=r"campaigns\[0\]\.bidd"):  # the scenario's own validation
        adsim.sweep(short(), seeds=1, grid={"campaigns[0].bidd": [0.1]}, progress=False)
    with pytest.raises(adsim.ConfigError, match="field path"):
        adsim.sweep(short(), seeds=1, grid={"campaigns..bid": [0.1]}, progress=False)


def test_oracle_adds_regret_columns():
    swept = adsim.sweep(short(duration="3h"), seeds=1, oracle=True, progress=False)
    for column in ("oracle_conversions", "oracle_value", "regret_conversions", "regret_value"):
        assert column in swept.kpis.columns
    row = swept.kpis.iloc[0]
    assert row["regret_conversions"] == pytest.approx(row["oracle_conversions"] - row["true_conversions"])
    # The share of the oracle: regret / oracle, per campaign (NaN only where the oracle reached nothing).
    for kind in ("conversions", "value"):
        oracle = swept.kpis[f"oracle_{kind}"].to_numpy(dtype=float)
        share = swept.kpis[f"regret_{kind}_share"].to_numpy(dtype=float)
        reached = oracle > 0
        assert reached.any()
        np.testing.assert_allclose(share[reached], swept.kpis[f"regret_{kind}"].to_numpy(dtype=float)[reached]
                                   / oracle[reached], rtol=1e-12)
        assert np.isnan(share[~reached]).all()


def test_keep_results_and_the_sweep_file(tmp_path):
    kept = adsim.sweep(short(), seeds=2, keep="results", progress=False)
    assert kept.result(1).fingerprint == kept.runs["fingerprint"].iloc[1]
    with pytest.raises(KeyError):
        kept.result(9)
    summary_only = adsim.sweep(short(), seeds=1, progress=False)
    with pytest.raises(ValueError, match="keep='results'"):
        summary_only.result(0)

    path = tmp_path / "sweep.h5"
    written = adsim.sweep(short(), seeds=2, output=path, progress=False)
    loaded = adsim.load(path)
    assert isinstance(loaded, adsim.Sweep)
    pd.testing.assert_frame_equal(loaded.runs, written.runs, check_dtype=False)
    pd.testing.assert_frame_equal(loaded.kpis, written.kpis, check_dtype=False, check_categorical=False)
    # Each run's group carries the root attributes of a single-run file.
    single = adsim.run(short(), seed=2, out=tmp_path / "single.h5")
    with h5py.File(path, "r") as sweep_file, h5py.File(tmp_path / "single.h5", "r") as single_file:
        group = sweep_file["runs/000001"]
        for key in ("seed", "fingerprint", "schema_version", "adsim_version", "scenario_name"):
            assert key in group.attrs, key
        assert int(group.attrs["seed"]) == 2
        assert sorted(k for k in group.keys()) == sorted(single_file.keys())
    replayed = loaded.result(1)
    assert replayed.fingerprint == single.fingerprint
    pd.testing.assert_frame_equal(replayed.aggregates, single.aggregates)
    # Saving a kept sweep writes the same file content.
    kept.save(tmp_path / "kept.h5")
    assert adsim.load(tmp_path / "kept.h5").runs["fingerprint"].tolist() == written.runs["fingerprint"].tolist()


def test_a_failed_sweep_leaves_no_file(tmp_path):
    path = tmp_path / "sweep.h5"
    bad = short()
    bad["campaigns"][0]["bidder"] = "no_such_bidder"
    with pytest.raises(adsim.ConfigError, match="no_such_bidder"):
        adsim.sweep(bad, seeds=2, output=path, progress=False)
    assert os.listdir(tmp_path) == []


def test_python_controllers_are_refused():
    @adsim.register_controller("test_sweep_noop", description="does nothing (test)")
    class Noop(adsim.Controller):
        def on_cycle(self, snapshot):
            return []

    scenario = short()
    scenario["campaigns"][0]["controllers"] = [{"type": "test_sweep_noop"}]
    with pytest.raises(adsim.ConfigError, match=r"campaigns\[0\]\.controllers\[0\].*Python controller"):
        adsim.sweep(scenario, seeds=1, progress=False)


def test_progress_callback_counts_runs():
    seen = []
    adsim.sweep(short(duration="2h"), seeds=3, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (3, 3)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


# ---- distributions ------------------------------------------------------------


def test_distribution_in_a_single_run_is_recorded():
    scenario = short()
    scenario["segments"][0]["ctr"] = {"beta": [4, 996]}
    result = adsim.run(scenario, seed=3)
    table = result.table("sampled_parameters")
    assert table["field"].tolist() == ["segments[0].ctr"]
    assert table["distribution"].tolist() == ["beta"]
    assert 0 < table["value"].iloc[0] < 1
    assert adsim.run(scenario, seed=3).fingerprint == result.fingerprint
    assert adsim.run(scenario, seed=4).table("sampled_parameters")["value"].iloc[0] != table["value"].iloc[0]


def test_sweep_records_sampled_values_per_run():
    scenario = short(duration="2h")
    scenario["channels"][0]["competition"]["median"] = {"lognormal": [-6.2, 0.3]}
    scenario["channels"][0]["traffic"]["per_hour"] = {"choice": [10000, 20000]}
    swept = adsim.sweep(scenario, seeds=6, progress=False)
    medians = swept.runs["channels[0].competition.median"]
    assert medians.nunique() == 6 and (medians > 0).all()
    assert set(swept.runs["channels[0].traffic.per_hour"]) <= {10000.0, 20000.0}


def test_distribution_errors_name_the_field():
    scenario = short()
    scenario["segments"][0]["ctr"] = {"gama": [1, 2]}
    with pytest.raises(adsim.ConfigError, match=r"segments\[0\]\.ctr.*unknown distribution 'gama'"):
        adsim.run(scenario, seed=1)
    scenario["segments"][0]["ctr"] = {"beta": [0, 2]}
    with pytest.raises(adsim.ConfigError, match=r"segments\[0\]\.ctr\.beta"):
        adsim.validate(scenario)
    scenario = short()
    scenario["campaigns"][0]["name"] = {"choice": [1, 2]}
    with pytest.raises(adsim.ConfigError, match=r"campaigns\[0\]\.name.*real-valued"):
        adsim.validate(scenario)


# ---- plot ------------------------------------------------------------------------


def test_plot_compare_draws_paired_intervals():
    import matplotlib

    matplotlib.use("Agg")
    swept = adsim.sweep(short(), seeds=5, grid={"campaigns[0].bid": [0.003, 0.005]}, progress=False)
    ax = swept.plot.compare(metric="spend", by="campaigns[0].bid", campaign="alpha")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.003", "0.005"]
    # The bar of 0.005 is the 95% t-interval of the per-seed differences to 0.003.
    spend = swept.kpis[swept.kpis["campaign"] == "alpha"].merge(swept.runs[["run", "campaigns[0].bid"]], on="run")
    table = spend.pivot_table(index="seed", columns="campaigns[0].bid", values="spend")
    differences = table[0.005] - table[0.003]
    half = stats.t.ppf(0.975, 4) * differences.std(ddof=1) / np.sqrt(5)
    bars = ax.containers[0]
    segments = bars.lines[2][0].get_segments()
    assert segments[1][1][1] - segments[1][0][1] == pytest.approx(2 * half)
    assert segments[0][1][1] - segments[0][0][1] == pytest.approx(0.0)  # the baseline has no bar
    with pytest.raises(ValueError, match="unknown metric"):
        swept.plot.compare(metric="nope")


# ---- the command line ------------------------------------------------------------


def test_cli_sweep_workers_give_the_same_fingerprints(adsim_cli, tmp_path):
    import yaml

    scenario = tmp_path / "s.yaml"
    scenario.write_text(yaml.safe_dump(short(duration="3h")))
    fingerprints = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}.h5"
        done = subprocess.run([adsim_cli, "sweep", str(scenario), "--seeds", "1-3", "--set",
                               "campaigns[0].bid=0.004,0.005", "--workers", str(workers), "-o", str(out),
                               "--no-progress"], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "campaigns[0].bid=0.005" in done.stdout and "alpha" in done.stdout
        fingerprints.append(adsim.load(out).runs["fingerprint"].tolist())
    assert len(fingerprints[0]) == 6
    assert fingerprints[0] == fingerprints[1]


def test_cli_sweep_bad_input_exit_codes(adsim_cli, tmp_path):
    done = subprocess.run([adsim_cli, "sweep", "--seeds", "1", "--set", "campaigns[0].bid"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "FIELD=V1,V2" in done.stderr
    done = subprocess.run([adsim_cli, "sweep", str(tmp_path / "missing.yaml")], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 3 and "missing.yaml" in done.stderr
