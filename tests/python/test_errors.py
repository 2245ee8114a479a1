"""Errors: one Python class per C++ kind, with issues for configuration errors."""

from __future__ import annotations

import pytest

import adsim


def test_hierarchy():
    for cls in (adsim.ConfigError, adsim.DataError, adsim.InvariantError, adsim.IoError):
        assert issubclass(cls, adsim.Error)
    assert issubclass(adsim.Error, Exception)


def test_bad_dict_names_dict_and_field_paths(small):
    small["campaigns"][1]["budget"]["daily"] = "lots"
    small["channels"][0]["auction"] = "dutch"
    with pytest.raises(adsim.ConfigError) as info:
        adsim.run(small)
    e = info.value
    paths = {i["path"] for i in e.issues}
    assert "campaigns[1].budget.daily" in paths
    assert any(p.startswith("channels[0].auction") for p in paths)
    assert all(i["file"] == "<dict>" for i in e.issues)
    assert set(e.issues[0]) == {"file", "path", "line", "expected", "found"}
    daily = next(i for i in e.issues if i["path"] == "campaigns[1].budget.daily")
    assert "lots" in daily["found"]
    assert "<dict>: campaigns[1].budget.daily: expected" in str(e)  # no meaningless line number
    assert all(i["line"] == 0 for i in e.issues)


def test_validate_reports_the_same_issues(small):
    small["campaigns"][1]["budget"]["daily"] = -3
    with pytest.raises(adsim.ConfigError) as info:
        adsim.validate(small)
    assert any(i["path"] == "campaigns[1].budget.daily" for i in info.value.issues)


def test_yaml_syntax_error_has_line():
    text = "name: x\nseed: 1\nchannels: [\n  - {"
    with pytest.raises(adsim.ConfigError) as info:
        adsim.run(text)
    issue = info.value.issues[0]
    assert issue["file"] == "<string>" and issue["line"] >= 1


def test_missing_seed_is_config_error(small):
    del small["seed"]
    with pytest.raises(adsim.ConfigError) as info:
        adsim.run(small)
    assert [i["path"] for i in info.value.issues] == ["seed"]
    # A seed given to the run is enough.
    assert adsim.run(small, seed=5).seed == 5
    # validate() accepts a scenario without a seed and says so.
    assert adsim.validate(small)["seed"] is None


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5, "7", True])
def test_bad_seed_argument(small, seed):
    with pytest.raises(adsim.ConfigError) as info:
        adsim.run(small, seed=seed)
    assert info.value.issues[0]["path"] == "seed"


def test_unknown_component_lists_valid_ones(small):
    small["campaigns"][0]["bidder"] = {"type": "psychic"}
    small["campaigns"][1]["controllers"] = [{"type": "pid_pacing", "params": {"kp": "high", "gain": 2}}]
    with pytest.raises(adsim.ConfigError) as info:
        adsim.validate(small)
    by_path = {i["path"]: i for i in info.value.issues}
    assert "fixed" in by_path["campaigns[0].bidder.type"]["expected"]
    assert "campaigns[1].controllers[0].params.kp" in by_path
    assert "campaigns[1].controllers[0].params.gain" in by_path


def test_missing_scenario_file_is_io_error(tmp_path):
    with pytest.raises(adsim.IoError, match="nope.yaml"):
        adsim.run(tmp_path / "nope.yaml")
    with pytest.raises(adsim.IoError, match="nope.yaml"):
        adsim.run(str(tmp_path / "nope.yaml"))


def test_unserialisable_dict_value(small):
    small["campaigns"][0]["bid"] = object()
    with pytest.raises(adsim.ConfigError, match="<dict>"):
        adsim.run(small)


def test_numpy_values_in_dict_are_accepted(small):
    import numpy as np

    small["campaigns"][0]["bid"] = np.float64(0.004)
    small["seed"] = np.int64(7)
    assert adsim.run(small).seed == 7


def test_empty_and_garbage_inputs_do_not_crash():
    for bad in ("", "   ", "[1, 2, 3]", "just a sentence without a colon", "{}", "null"):
        with pytest.raises(adsim.Error):
            adsim.run(bad, seed=1)
    with pytest.raises(adsim.Error):
        adsim.run({}, seed=1)


def test_config_error_from_python_issues():
    e = adsim.ConfigError(issues=[{"file": "f.yaml", "path": "a.b", "line": 3, "expected": "x", "found": "y"}])
    assert str(e) == "1 error in scenario\n  f.yaml:3: a.b: expected x, found y"
