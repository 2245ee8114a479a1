"""adsim.sweep on a Dask cluster: a real 2-worker LocalCluster of processes
gives the same runs (fingerprints, KPIs, saved results) as a local sweep."""

from __future__ import annotations

import pandas as pd
import pytest

import adsim

from conftest import small_scenario

distributed = pytest.importorskip("distributed", reason="python3-distributed (scripts/setup.sh installs it)")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    with distributed.Client(cluster) as connected:
        yield connected
    cluster.close()


def test_dask_sweep_equals_the_local_sweep(client, tmp_path):
    scenario = small_scenario()
    scenario["duration"] = "3h"
    scenario["segments"][0]["ctr"] = {"beta": [4, 996]}  # sampled on the workers from each run's seed
    grid = {"campaigns[0].bid": [0.003, 0.005]}
    local = adsim.sweep(scenario, seeds=3, grid=grid, progress=False)
    remote = adsim.sweep(scenario, seeds=3, grid=grid, client=client, progress=False, output=tmp_path / "dask.h5")
    # Both worker processes took part (runs are tasks spread over the cluster).
    assert len(client.scheduler_info()["workers"]) == 2
    assert remote.runs["fingerprint"].tolist() == local.runs["fingerprint"].tolist()
    pd.testing.assert_frame_equal(remote.runs, local.runs)
    pd.testing.assert_frame_equal(remote.kpis, local.kpis)
    # The file written from the workers' result bytes replays like a local run.
    loaded = adsim.load(tmp_path / "dask.h5")
    assert loaded.result(4).fingerprint == adsim.run(scenario | {"campaigns": remote_campaigns(scenario)},
                                                     seed=2).fingerprint


def remote_campaigns(scenario):
    campaigns = [dict(c) for c in scenario["campaigns"]]
    campaigns[0]["bid"] = 0.005
    return campaigns


def test_dask_keep_results(client):
    scenario = small_scenario()
    scenario["duration"] = "2h"
    swept = adsim.sweep(scenario, seeds=2, client=client, keep="results", progress=False)
    assert swept.result(1).fingerprint == adsim.run(scenario, seed=2).fingerprint
