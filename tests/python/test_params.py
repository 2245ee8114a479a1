"""Component parameters are checked when the scenario is validated, before a run starts."""

from __future__ import annotations

import math

import pytest

import adsim


def _issue_paths(scenario):
    with pytest.raises(adsim.ConfigError) as info:
        adsim.validate(scenario)
    return {i["path"]: i for i in info.value.issues}


def test_rules_a_component_checks_itself_come_from_validate(small):
    small["monitors"] = [{"type": "kpi_seasonal", "params": {"min_seasons": 8, "max_seasons": 4}}]
    issues = _issue_paths(small)
    assert "monitors[0].params.max_seasons" in issues
    assert issues["monitors[0].params.max_seasons"]["found"] == "4"


def test_non_finite_numbers_are_rejected_from_a_dict(small):
    # JSON has no NaN: the dict's float NaN reaches the reader as a string, and fails as one.
    small["monitors"] = [{"type": "kpi_cusum", "params": {"h": math.nan}}]
    assert "monitors[0].params.h" in _issue_paths(small)


def test_yaml_nan_and_a_nul_in_a_name_are_located(tmp_path, small):
    text = (
        "name: p\nseed: 1\nduration: 1d\n"
        "channels: [{name: c, traffic: {per_hour: 100}, competition: {median: 0.002}}]\n"
        "segments: [{name: s, ctr: 0.02, cvr: 0.1}]\n"
        "campaigns:\n"
        "  - {name: k, bid: 0.003, budget: {daily: 5}, controllers: [{type: pid_pacing, params: {kp: .nan}}]}\n"
    )
    path = tmp_path / "nan.yaml"
    path.write_text(text)
    with pytest.raises(adsim.ConfigError) as info:
        adsim.validate(str(path))
    (issue,) = info.value.issues
    assert (issue["path"], issue["line"], issue["found"]) == ("campaigns[0].controllers[0].params.kp", 7, "nan")
    path.write_text(text.replace("{name: s,", '{name: "s\\0",'))
    with pytest.raises(adsim.ConfigError) as info:
        adsim.validate(str(path))
    (issue,) = info.value.issues
    assert (issue["path"], issue["line"]) == ("segments[0].name", 5)
