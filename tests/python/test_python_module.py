"""Python strategies from the command line: `adsim run --python-module FILE`
and a scenario's `python:` list, Python bidders (bid table and per request),
their errors, and reproducibility (docs/python.md, "Python bidders" and
"Python strategies from the command line")."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import adsim

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "docs" / "examples" / "python_strategies.py"

# Registers a bid-table bidder that bids only on the segment `buyers`, a
# per-request bidder that bids only on the channel `native` (with its own
# random jitter), and a controller that lowers the first campaign's bid once.
STRATEGIES = '''
import math
import numpy as np
import adsim

@adsim.register_bidder("buyers_only", params={"factor": 1.0})
class BuyersOnly(adsim.Bidder):
    """Base bid x factor on the segment 'buyers', nothing elsewhere (bid table)."""
    def __init__(self, factor=1.0):
        super().__init__(factor=factor)
        self.factor = factor
    def on_cycle(self, snapshot):
        state = snapshot.campaigns[self.campaign]
        table = np.full((snapshot.num_channels, snapshot.num_segments), np.nan)
        table[:, snapshot.segment_index("buyers")] = state.bid * self.factor
        return table

@adsim.register_bidder("native_jitter", params={"sigma": 0.3})
class NativeJitter(adsim.Bidder):
    """Base bid x lognormal noise on the channel 'native', per request."""
    def __init__(self, sigma=0.3):
        super().__init__(sigma=sigma)
        self.sigma = sigma
        self.native = None
    def on_cycle(self, snapshot):
        self.native = snapshot.channel_index("native")
        return None
    def bid(self, request, state):
        if request.channel != self.native:
            return 0.0
        return state.bid * math.exp(self.sigma * self.rng.standard_normal())

@adsim.register_controller("halve_once")
class HalveOnce(adsim.Controller):
    """Halves the bid at the first cycle after t = 0."""
    def on_cycle(self, snapshot):
        if snapshot.time == snapshot.control_cycle:
            return adsim.Action.set_bid(self.campaign, snapshot.campaigns[self.campaign].bid / 2, reason="once")
        return None
'''

SCENARIO = '''\
name: python_module_test
seed: 5
duration: 6h
control_cycle: 30m
{python}
channels:
  - name: display
    traffic: {{per_hour: 4000}}
    competition: {{competitors: 4, median: 0.002, sigma: 0.5}}
  - name: native
    traffic: {{per_hour: 2000}}
    competition: {{competitors: 3, median: 0.003, sigma: 0.5}}
segments:
  - name: browsers
    ctr: 0.003
    cvr: 0.04
  - name: buyers
    ctr: 0.005
    cvr: 0.1
campaigns:
  - name: first
    bid: 0.004
    budget: {{daily: 30}}
    bidder: {{type: {bidder_first}}}
    controllers: [{{type: halve_once}}]
  - name: second
    bid: 0.004
    budget: {{daily: 30}}
    bidder: {{type: {bidder_second}, params: {{sigma: 0.3}}}}
'''


def scenario_text(python: str = "", first: str = "buyers_only", second: str = "native_jitter") -> str:
    return SCENARIO.format(python=python, bidder_first=first, bidder_second=second)


def cli(adsim_cli, *arguments, cwd=None):
    return subprocess.run([adsim_cli, *map(str, arguments)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, "ADSIM_PYTHON": sys.executable}, timeout=120)


@pytest.fixture
def strategies(tmp_path) -> Path:
    path = tmp_path / "strategies.py"
    path.write_text(STRATEGIES)
    return path


def check_strategies_ran(result: adsim.Result) -> None:
    """What the module's components make visible in the result."""
    agg = result.aggregates
    first = agg[agg["campaign_name"] == "first"]
    second = agg[agg["campaign_name"] == "second"]
    # buyers_only bids on 'buyers' only (its table is NaN elsewhere) ...
    assert first[first["segment_name"] == "buyers"]["bids"].sum() > 0
    assert first[first["segment_name"] == "browsers"]["bids"].sum() == 0
    # ... native_jitter, called per request, on 'native' only.
    assert second[second["channel_name"] == "native"]["bids"].sum() > 0
    assert second[second["channel_name"] == "display"]["bids"].sum() == 0
    # halve_once acted once, at the second cycle: 0.004 -> 0.002.
    actions = result.actions[result.actions["controller"] == "halve_once"]
    assert len(actions) == 1 and actions["new"].iloc[0] == pytest.approx(0.002)


def test_cli_python_module_option_runs_python_bidders_and_controllers(adsim_cli, tmp_path, strategies):
    (tmp_path / "s.yaml").write_text(scenario_text())
    done = cli(adsim_cli, "run", "s.yaml", "--python-module", strategies, "-o", "out.h5", "--no-progress",
               cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "wrote out.h5" in done.stdout and "first" in done.stdout
    check_strategies_ran(adsim.load(tmp_path / "out.h5"))


def test_scenario_python_entry_is_relative_to_the_scenario_file(adsim_cli, tmp_path, strategies):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "mine.py").write_text(strategies.read_text())
    (folder / "s.yaml").write_text(scenario_text("python: [mine.py]"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    done = cli(adsim_cli, "run", "../project/s.yaml", "-o", "out.h5", "--no-progress", cwd=elsewhere)
    assert done.returncode == 0, done.stderr
    via_entry = adsim.load(elsewhere / "out.h5")
    check_strategies_ran(via_entry)
    # Both routes run the same strategies on the same market: one fingerprint
    # (the scenario text, which differs by the `python:` line, is an attribute).
    (tmp_path / "s.yaml").write_text(scenario_text())
    other = cli(adsim_cli, "run", "s.yaml", "--python-module", strategies, "-o", "flag.h5", "--no-progress",
                cwd=tmp_path)
    assert other.returncode == 0, other.stderr
    assert adsim.load(tmp_path / "flag.h5").fingerprint == via_entry.fingerprint


def test_adsim_run_in_python_loads_the_scenario_modules(tmp_path, strategies):
    (tmp_path / "s.yaml").write_text(scenario_text(f"python: [{strategies.name}]"))
    check_strategies_ran(adsim.run(str(tmp_path / "s.yaml")))


def without_wall_time(text: str) -> str:
    """The summary with its wall-clock figures (time and M/s) blanked."""
    return re.sub(r"wall [0-9.]+ s \([0-9.]+ M/s\)", "wall - s (- M/s)", text)


def test_python_route_gives_the_cpp_output_and_file(adsim_cli, tmp_path):
    """Without Python components, `python -m adsim run` prints what the C++
    command prints and writes the same tables (wall time aside)."""
    scenario = REPO / "docs" / "examples" / "minimal.yaml"
    cpp = cli(adsim_cli, "run", scenario, "--seed", "3", "-o", "cpp.h5", "--no-progress", cwd=tmp_path)
    python = subprocess.run([sys.executable, "-m", "adsim", "run", str(scenario), "--seed", "3", "-o", "py.h5"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert cpp.returncode == python.returncode == 0, (cpp.stderr, python.stderr)
    assert without_wall_time(python.stdout).replace("py.h5", "OUT") == without_wall_time(cpp.stdout).replace(
        "cpp.h5", "OUT")
    a, b = adsim.load(tmp_path / "cpp.h5"), adsim.load(tmp_path / "py.h5")
    assert a.fingerprint == b.fingerprint
    assert {k: v for k, v in a.attrs.items() if k != "wall_time_s"} == {
        k: v for k, v in b.attrs.items() if k != "wall_time_s"}
    assert a.tables == b.tables
    for name in a.tables:
        for column, values in a.raw(name).items():
            np.testing.assert_array_equal(values, b.raw(name)[column], err_msg=f"{name}.{column}")


def test_missing_module_is_a_config_error_naming_it(adsim_cli, tmp_path):
    (tmp_path / "s.yaml").write_text(scenario_text())
    done = cli(adsim_cli, "run", "s.yaml", "--python-module", "nowhere.py", "-o", "out.h5", cwd=tmp_path)
    assert done.returncode == 2
    assert "--python-module" in done.stderr and "'nowhere.py', which does not exist" in done.stderr
    assert not (tmp_path / "out.h5").exists()

    (tmp_path / "t.yaml").write_text(scenario_text("python:\n  - gone.py"))
    done = cli(adsim_cli, "run", "t.yaml", cwd=tmp_path)
    assert done.returncode == 2
    # The file, the line of the entry and the field path.
    assert "t.yaml:6: python[0]: expected a Python module file" in done.stderr, done.stderr
    assert "'gone.py', which does not exist" in done.stderr


def test_module_that_fails_to_import_shows_the_last_traceback_line(adsim_cli, tmp_path):
    (tmp_path / "broken.py").write_text("import adsim\nimport no_such_package_for_adsim\n")
    (tmp_path / "s.yaml").write_text(scenario_text("python: [broken.py]"))
    done = cli(adsim_cli, "run", "s.yaml", cwd=tmp_path)
    assert done.returncode == 2
    assert "python[0]" in done.stderr and "'broken.py', whose import failed" in done.stderr
    assert "ModuleNotFoundError: No module named 'no_such_package_for_adsim'" in done.stderr
    with pytest.raises(adsim.ConfigError) as error:
        adsim.run(str(tmp_path / "s.yaml"))
    assert isinstance(error.value.__cause__, ModuleNotFoundError)


def test_unknown_component_names_the_field(adsim_cli, tmp_path, strategies):
    (tmp_path / "s.yaml").write_text(scenario_text(first="buyers_onyl"))
    done = cli(adsim_cli, "run", "s.yaml", "--python-module", strategies, "-o", "out.h5", cwd=tmp_path)
    assert done.returncode == 2
    assert "campaigns[0].bidder" in done.stderr and "buyers_onyl" in done.stderr
    assert "buyers_only" in done.stderr  # listed among the valid names
    assert not (tmp_path / "out.h5").exists()


def test_failing_python_bidder_names_bidder_campaign_and_time(adsim_cli, tmp_path, strategies):
    (tmp_path / "bad.py").write_text(textwrap.dedent('''
        import adsim

        @adsim.register_bidder("divides_by_zero")
        class Bad(adsim.Bidder):
            def bid(self, request, state):
                return 1 / 0
    '''))
    (tmp_path / "s.yaml").write_text(scenario_text("python: [strategies.py]", second="divides_by_zero").replace(
        "params: {sigma: 0.3}", "params: {}"))
    done = cli(adsim_cli, "run", "s.yaml", "-o", "out.h5", "--python-module", "bad.py", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "Python bidder 'divides_by_zero' (campaign 1 'second')" in done.stderr
    assert "ZeroDivisionError: division by zero" in done.stderr and "simulated time" in done.stderr
    assert not (tmp_path / "out.h5").exists()


def test_bid_table_of_the_wrong_shape_is_an_error(tmp_path):
    @adsim.register_bidder("test_wrong_table")
    class Wrong(adsim.Bidder):
        def on_cycle(self, snapshot):
            return [1.0, 2.0, 3.0]

    text = scenario_text(first="test_wrong_table", second="fixed").replace("params: {sigma: 0.3}", "params: {}")
    text = text.replace("    controllers: [{type: halve_once}]\n", "")
    with pytest.raises(adsim.Error, match=r"bid table of shape \(3,\); expected \(channels, segments\) = \(2, 2\)"):
        adsim.run(text)


def test_same_seed_same_fingerprint_and_the_market_is_untouched(tmp_path, strategies):
    (tmp_path / "s.yaml").write_text(scenario_text(f"python: [{strategies.name}]"))
    path = str(tmp_path / "s.yaml")
    a, b, c = adsim.run(path, seed=11), adsim.run(path, seed=11), adsim.run(path, seed=12)
    assert a.fingerprint == b.fingerprint
    assert a.fingerprint != c.fingerprint
    # The Python bidders draw from their own generators: the market (every
    # opportunity) is the one a C++ bidder sees on the same seed.
    (tmp_path / "fixed.yaml").write_text(
        scenario_text(f"python: [{strategies.name}]", first="fixed", second="fixed").replace(
            "params: {sigma: 0.3}", "params: {}"))
    fixed = adsim.run(str(tmp_path / "fixed.yaml"), seed=11)
    assert a.market.equals(fixed.market)
    assert not a.aggregates["bids"].equals(fixed.aggregates["bids"])


def test_python_bidders_are_listed_with_their_origin(strategies):
    adsim.load_module(strategies)
    found = {(c["kind"], c["name"]): c for c in adsim.components()}
    assert found[("bidder", "buyers_only")]["origin"] == "Python"
    assert found[("bidder", "buyers_only")]["params"][0]["name"] == "factor"
    assert found[("bidder", "native_jitter")]["description"].startswith("Base bid x lognormal")


def test_docs_example_module_runs(tmp_path):
    result = adsim.run(str(REPO / "docs" / "examples" / "python_strategies.yaml"))
    kpis = result.kpis().set_index("campaign_name")
    assert (kpis["bids"] > 0).all()
    assert (result.actions["controller"] == "even_spend").any()
