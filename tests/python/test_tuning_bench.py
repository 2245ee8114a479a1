"""The tuning and control-cycle studies (bench/tune_strategies.py, bench/control_cycle_study.py).

Owns the CI checks of those two bench scripts: their argument errors, that
a tuned parameter reaches the component it names, one tiny run of each (a
few hours of the comparison scenario instead of its week), and that
docs/control-cycle.md is what its generator renders from the saved
measurements. The studies themselves are long and run by hand (docs/).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench"


@pytest.fixture(scope="module")
def scripts(bench_import):
    return bench_import("tune_strategies"), bench_import("control_cycle_study")


@pytest.fixture(scope="module")
def scenario():
    return yaml.safe_load((BENCH / "scenarios" / "comparison.yaml").read_text())


@pytest.mark.parametrize("argv, message", [
    (["--seeds", "1"], "--seeds: expected 0 or at least 2"),
    (["--stacks", "value,magic"], "unknown stack 'magic'"),
    (["--tuning-seeds", "1-3", "--seeds", "5"], "also held-out seeds"),
    (["--points", "-1"], "--points: expected 0 or more"),
    (["--refine", "-2"], "--refine: expected 0 or more"),
])
def test_tune_rejects_bad_arguments(scripts, capsys, argv, message):
    tune, _ = scripts
    with pytest.raises(SystemExit) as exit_info:
        tune.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--cycles", "15m,soon"], "'soon': expected a number followed by m, h or d"),
    (["--cycles", "15m,1h", "--reference", "2h"], "--reference: '2h' is not one of --cycles"),
    (["--seeds", "1"], "--seeds: expected at least 2"),
])
def test_control_cycle_rejects_bad_arguments(scripts, capsys, argv, message):
    _, study = scripts
    with pytest.raises(SystemExit) as exit_info:
        study.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_tuned_file_errors_name_the_file_and_the_key(scripts, tmp_path):
    tune, _ = scripts
    bad = tmp_path / "tuned.yaml"
    bad.write_text("value:\n  pid_pacing.gain: 2\n")
    with pytest.raises(ValueError, match=r"tuned.yaml: value.pid_pacing.gain: unknown parameter"):
        tune.read_params(str(bad))
    bad.write_text("value:\n  budget_reallocation.method: magic\n")
    with pytest.raises(ValueError, match=r"budget_reallocation.method: expected rule, thompson, marginal or none"):
        tune.read_params(str(bad))
    bad.write_text("value:\n  bidder.pooling: partial\n")
    with pytest.raises(ValueError, match=r"value.bidder.pooling: expected hierarchical or none, not 'partial'"):
        tune.read_params(str(bad))
    bad.write_text("value:\n  control_cycle: 15\n")
    with pytest.raises(ValueError, match=r"value.control_cycle: expected a duration such as 15m or 2h"):
        tune.read_params(str(bad))
    bad.write_text("other:\n  pid_pacing.kp: 2\n")
    with pytest.raises(ValueError, match=r"unknown stack 'other'"):
        tune.read_params(str(bad))


def test_tuned_values_reach_the_components_they_name(scripts, scenario):
    tune, _ = scripts
    params = {**tune.STACK_DEFAULTS["value"], "bidder.goal_scale": 1.25, "pid_pacing.kp": 6.0,
              "creative_thompson.half_life_hours": 48.0, "budget_reallocation.method": "thompson",
              "budget_reallocation.half_life_hours": 24.0}
    sc = tune.stack_scenario(scenario, "value", params, cycle="1h")
    assert sc["control_cycle"] == "1h"
    for camp in sc["campaigns"]:
        goal, bidder = camp["goal"], camp["bidder"]
        # A looser target bids higher: CPA target = goal x 1.25, ROAS target = goal / 1.25.
        if "cpa" in goal:
            assert bidder["type"] == "target_cpa" and bidder["params"]["target_cpa"] == goal["cpa"] * 1.25
        else:
            assert bidder["type"] == "target_roas" and math.isclose(bidder["params"]["target_roas"], goal["roas"] / 1.25)
        controllers = {c["type"]: c.get("params", {}) for c in camp["controllers"]}
        assert controllers["pid_pacing"]["kp"] == 6.0
        assert controllers["creative_thompson"]["half_life_hours"] == 48.0
    assert sc["controllers"][0]["params"]["method"] == "thompson"
    assert sc["controllers"][0]["params"]["half_life_hours"] == 24.0
    fixed = tune.stack_scenario(scenario, "fixed", tune.STACK_DEFAULTS["fixed"])
    assert all(c["bidder"] == "fixed" for c in fixed["campaigns"]) and "controllers" not in fixed


def test_neighbours_change_one_or_two_parameters_within_the_space(scripts):
    tune, _ = scripts
    rng = tune.np.random.default_rng(3)
    centre = dict(tune.STACK_DEFAULTS["value"])
    seen = {tune.json.dumps(centre, sort_keys=True)}
    points = tune.neighbours("value", centre, 12, rng, seen)
    assert len(points) == 12
    assert len({tune.json.dumps(p, sort_keys=True) for p in points}) == 12  # distinct, and not the centre
    for point in points:
        changed = [k for k in centre if point[k] != centre[k]]
        assert 1 <= len(changed) <= 2, changed
        assert all(point[k] in tune.SPACE[k] for k in point)
    # A stack without reallocation has no half-life to change; the fixed stack has no bidder keys.
    fixed = tune.neighbours("fixed", dict(tune.STACK_DEFAULTS["fixed"]), 8, rng, set())
    for point in fixed:
        assert not any(k.startswith("bidder.") for k in point)
        if point["budget_reallocation.method"] == "none":
            assert point["budget_reallocation.half_life_hours"] == 0.0


def test_searched_bidder_and_cycle_values_reach_the_scenario(scripts, scenario):
    tune, _ = scripts
    params = {**tune.STACK_DEFAULTS["value"], "bidder.explore_bid_share": 0.5, "bidder.pooling": "none",
              "pid_pacing.ki": 2.0, "control_cycle": "2h"}
    sc = tune.stack_scenario(scenario, "value", params)
    assert sc["control_cycle"] == "2h"
    for camp in sc["campaigns"]:
        assert camp["bidder"]["params"]["explore_bid_share"] == 0.5
        assert camp["bidder"]["params"]["pooling"] == "none"
        assert {c["type"]: c.get("params", {}) for c in camp["controllers"]}["pid_pacing"]["ki"] == 2.0
    # An explicit cycle (the comparison's cycle study) wins over the tuned one.
    assert tune.stack_scenario(scenario, "value", params, cycle="15m")["control_cycle"] == "15m"
    tune.adsim.validate(sc)


def test_tiny_tuning_run_writes_params_the_comparison_accepts(scripts, tmp_path):
    tune, _ = scripts
    params, saved = tmp_path / "tuned.yaml", tmp_path / "tuning.json"
    assert tune.main(["--stacks", "value", "--points", "1", "--refine", "1", "--tuning-seeds", "101-102",
                      "--seeds", "2", "--duration", "6h", "--params", str(params), "--save", str(saved)]) == 0
    chosen = tune.read_params(str(params))["value"]
    ctx = json.loads(saved.read_text())
    rows = ctx["tuning"]["value"]["candidates"]
    # Stage 1: the defaults and one random point; stage 2: one neighbour of stage 1's best.
    assert len(rows) == 3 and rows[0]["params"] == tune.STACK_DEFAULTS["value"]
    assert [r["stage"] for r in rows] == [1, 1, 2]
    centre = rows[ctx["tuning"]["value"]["stage1_best"]]["params"]
    assert 1 <= sum(rows[2]["params"][k] != centre[k] for k in centre) <= 2
    # The chosen point is the one with the most mean conversions on the tuning seeds.
    assert chosen == rows[ctx["tuning"]["value"]["best"]]["params"]
    assert rows[ctx["tuning"]["value"]["best"]]["conversions"] == max(r["conversions"] for r in rows)
    held = ctx["held_out"]
    assert set(held["totals"]) == {"baseline", "value defaults", "value tuned"}
    assert len(held["equal_spend"]["spend"]) == 2
    # Equal spend: each seed's matched baseline spends the stack's spend, within the tolerance where matched.
    for spend, target, matched in zip(held["equal_spend"]["spend"], held["totals"]["value tuned"]["spend"],
                                      held["equal_spend"]["matched"]):
        assert not matched or abs(spend - target) <= 0.01 * target
    # The held-out report alone, from the saved tuning: the same chosen point, the same tuning rows.
    again = tmp_path / "again.json"
    assert tune.main(["--stacks", "value", "--from-tuning", str(saved), "--seeds", "2", "--duration", "6h",
                      "--save", str(again)]) == 0
    redone = json.loads(again.read_text())
    assert redone["tuning"] == ctx["tuning"] and redone["tuning_run"] == ctx["tuning_run"]
    assert redone["held_out"]["totals"] == held["totals"]  # same seeds, same scenarios: same runs
    sections = tune.render_sections(ctx)
    assert sections["tuning"][0].startswith("## Tuning (tuning seeds 101..102")
    assert any(line.startswith("Target (a) is") for line in sections["targets"])
    # bench/strategy_comparison.py accepts the file (argument parsing and validation of every variant).
    result = subprocess.run([sys.executable, str(BENCH / "strategy_comparison.py"), "--tuned", str(tmp_path / "missing.yaml"),
                             "--seeds", "2"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "--tuned:" in result.stderr and "missing.yaml" in result.stderr


def test_targets_are_measured_for_every_tuned_stack(scripts, scenario, tmp_path):
    """Both targets for each tuned stack, not only the best (chosen on the tuning seeds): each stack's own
    oracles on every campaign and its own baseline at equal spend, on the same held-out seeds; the rendered
    Targets section shows a column (a) and a row (b) per stack."""
    tune, _ = scripts
    saved = tmp_path / "tuning.json"
    assert tune.main(["--stacks", "value,fixed", "--points", "1", "--tuning-seeds", "101-102", "--seeds", "3",
                      "--duration", "6h", "--save", str(saved)]) == 0
    ctx = json.loads(saved.read_text())
    held, campaigns = ctx["held_out"], [c["name"] for c in scenario["campaigns"]]
    best = held["best_stack"]
    # The best stack is the one with the most mean conversions on the tuning seeds.
    chosen = {s: t["candidates"][t["best"]]["conversions"] for s, t in ctx["tuning"].items()}
    assert chosen[best] == max(chosen.values())
    assert set(held["targets"]) == {"value", "fixed"}
    assert held["oracle"] == held["targets"][best]["oracle"]
    assert held["equal_spend"] == held["targets"][best]["equal_spend"]
    for stack, measured in held["targets"].items():
        # (a): every campaign has its own oracle on every held-out seed, and the stack's conversions there are
        # those of the stack's tuned run (the run with oracles is the same run plus each campaign's oracle).
        assert sorted(measured["oracle"]) == sorted(campaigns)
        for name, entry in measured["oracle"].items():
            assert len(entry["oracle_conversions"]) == 3 and all(x >= 0 for x in entry["oracle_conversions"])
            assert entry["conversions"] == held["campaigns"][f"{stack} tuned"][name]["conversions"]
        total = [sum(measured["oracle"][n]["conversions"][k] for n in campaigns) for k in range(3)]
        assert total == held["totals"][f"{stack} tuned"]["conversions"]
        # (b): the baseline scaled to this stack's spend, per seed (within the 1 % tolerance where matched).
        eq = measured["equal_spend"]
        for spend, target, matched in zip(eq["spend"], held["totals"][f"{stack} tuned"]["spend"], eq["matched"]):
            assert not matched or abs(spend - target) <= 0.01 * target
    # The oracles do not change the stack's own run: the fixed stack's tuned point without them gives the same
    # totals on the same seeds.
    fixed = ctx["tuning"]["fixed"]
    alone = tune.adsim.sweep({**scenario, "duration": "6h"}, seeds=[1, 2, 3], workers=2, progress=False,
                             variations={"fixed": lambda _sc: tune.stack_scenario(
                                 {**scenario, "duration": "6h"}, "fixed", fixed["candidates"][fixed["best"]]["params"])})
    assert tune.listify(tune.totals(alone, "fixed")) == held["totals"]["fixed tuned"]
    lines = tune.render_sections(ctx)["targets"]
    start = lines.index(next(line for line in lines if line.startswith("**Every tuned stack.**")))
    table_a = [line for line in lines[start:] if line.startswith("| `")][:len(campaigns)]
    assert lines[start + 2] == "| campaign | `value` tuned | `fixed` tuned |"
    assert len(table_a) == len(campaigns) and all(line.count(" of 3; ") == 2 for line in table_a)
    assert sum(line.startswith(("| `value` tuned |", "| `fixed` tuned |")) for line in lines) == 2
    assert any(line.startswith("Target (a): `") and "Target (b): `" in line for line in lines)


def test_tuning_one_stack_keeps_the_other_stacks_tuning_report_and_values(scripts, tmp_path):
    """`--stacks fixed` after `--stacks value` (the way docs/strategy-comparison.md's Tuning section was
    measured): the value stack's chosen values, tuning rows, held-out measurements, oracles and equal-spend
    match stay exactly as the first run wrote them; only the fixed stack (and the baseline, run again to
    check that the kept measurements are still the library's) runs."""
    tune, _ = scripts
    params, saved = tmp_path / "tuned.yaml", tmp_path / "tuning.json"
    common = ["--tuning-seeds", "101-102", "--duration", "6h", "--save", str(saved), "--params", str(params)]
    assert tune.main(["--stacks", "value", "--points", "1", "--seeds", "2"] + common) == 0
    first, first_params = json.loads(saved.read_text()), params.read_text()
    # The tuning alone (--seeds 0), then its held-out report from the saved tuning (--from-tuning).
    assert tune.main(["--stacks", "fixed", "--points", "1", "--refine", "1", "--seeds", "0"] + common) == 0
    between = json.loads(saved.read_text())
    assert "held_out" not in between and between["kept_report"]["held_out"] == first["held_out"]
    # A report written before every stack was measured has the oracles and the equal-spend match of its best
    # stack only ("oracle", "equal_spend"; no "targets"): they are kept, and the fixed stack gets its own.
    del between["kept_report"]["held_out"]["targets"]
    saved.write_text(json.dumps(between))
    assert tune.main(["--stacks", "fixed", "--from-tuning", str(saved), "--seeds", "2", "--duration", "6h",
                      "--save", str(saved)]) == 0
    ctx = json.loads(saved.read_text())
    chosen = tune.read_params(str(params))
    assert list(chosen) == ["value", "fixed"]
    # value's entries verbatim (the block after "value:" up to the next stack), and the line naming its command.
    now = params.read_text()
    assert now.split("\nvalue:\n", 1)[1].split("\nfixed:\n", 1)[0] + "\n" == first_params.split("\nvalue:\n", 1)[1]
    assert f"# value: `{first['command']}` on tuning seeds 101..102." in now
    assert chosen["fixed"] == ctx["tuning"]["fixed"]["candidates"][ctx["tuning"]["fixed"]["best"]]["params"]
    assert ctx["tuning"]["value"]["candidates"] == first["tuning"]["value"]["candidates"]
    held = ctx["held_out"]
    assert held["ran"] == ["fixed"] and held["best_stack"] == first["held_out"]["best_stack"]
    for key in ("value defaults", "value tuned", "baseline"):
        assert held["totals"][key] == first["held_out"]["totals"][key]
    assert held["oracle"] == first["held_out"]["oracle"] and held["equal_spend"] == first["held_out"]["equal_spend"]
    assert held["targets"]["value"] == {"oracle": first["held_out"]["oracle"],
                                        "equal_spend": first["held_out"]["equal_spend"]}
    assert set(held["targets"]["fixed"]) == {"oracle", "equal_spend"}
    assert {"fixed defaults", "fixed tuned"} <= set(held["totals"]) and "kept_report" not in ctx
    # Each stack's rows name the run that measured them.
    assert held["reports"]["value"]["command"] == first["command"]
    assert "--from-tuning" in held["reports"]["fixed"]["command"]
    text = "\n".join(tune.render_sections(ctx)["tuning"])
    assert "> `value`: tuned by" in text and "> `fixed`: tuned by" in text and "not tuned" not in text
    # Another scenario (here another duration): the value stack's tuning was not measured on it, so it is not kept.
    assert tune.main(["--stacks", "fixed", "--points", "1", "--seeds", "0", "--tuning-seeds", "101-102",
                      "--duration", "3h", "--save", str(saved)]) == 0
    assert list(json.loads(saved.read_text())["tuning"]) == ["fixed"]


def test_tiny_control_cycle_run(scripts, tmp_path):
    _, study = scripts
    saved, page = tmp_path / "cc.json", tmp_path / "cc.md"
    assert study.main(["--cycles", "15m,1h", "--reference", "15m", "--seeds", "2", "--duration", "6h",
                       "--save", str(saved), "--doc", str(page)]) == 0
    ctx = json.loads(saved.read_text())
    for name in ctx["campaigns"]:
        # The oracles run at the reference cycle only (one reference for every cycle).
        assert all(math.isfinite(x) and x >= 0 for x in ctx["results"]["15m"][name]["oracle_conversions"])
        assert all(math.isnan(x) for x in ctx["results"]["1h"][name]["oracle_conversions"])
        for cycle in ("15m", "1h"):
            r = ctx["results"][cycle][name]
            # Budgets are hard caps: at most the whole budget is spent.
            assert all(0 <= x <= 1 + 1e-9 for x in r["budget_use"])
            assert all(x >= 0 for x in r["reported_per_cycle"]) and len(r["conversions"]) == 2
    assert page.read_text().startswith("# The control cycle")


def test_control_cycle_measures_changes_and_the_shock_response(scripts, scenario, tmp_path):
    """The explaining measurements on a short run whose conversion shock falls
    inside it: bid changes at most once per cycle, budget changes at most once
    a day (budget_reallocation's interval), and the shocked-channel share of
    spend only for the campaign on both a shocked and an unshocked channel."""
    _, study = scripts
    short = {**scenario, "duration": "12h"}
    short["shocks"] = [{**scenario["shocks"][0], "start": "4h", "end": "10h"}]
    path = tmp_path / "short.yaml"
    path.write_text(yaml.safe_dump(short))
    saved = tmp_path / "cc.json"
    assert study.main(["--scenario", str(path), "--cycles", "15m,1h", "--reference", "1h", "--seeds", "2",
                       "--save", str(saved)]) == 0
    ctx = json.loads(saved.read_text())
    assert ctx["shock"] == {"name": "social_checkout_bug", "start": "4h", "end": "10h", "channels": ["social"],
                            "cvr": 0.4}
    for cycle, per_day in (("15m", 96), ("1h", 24)):
        for name in ctx["campaigns"]:
            r = ctx["results"][cycle][name]
            assert all(0 <= x <= per_day for x in r["bid_changes_per_day"])
            assert all(0 <= x <= 2 for x in r["budget_changes_per_day"])  # 12 h: at most one move, per half day
            shares = r["shock_channel_share"]
            assert len(shares) == 2 and all(len(x) == len(study.SHOCK_WINDOW_LABELS) for x in shares)
            if name == "cross_retail":  # social (shocked) and display
                assert any(math.isfinite(x) for x in shares[0][:4])
                assert all(0 <= x <= 1 for row in shares for x in row if math.isfinite(x))
            else:
                assert all(math.isnan(x) for row in shares for x in row)
    # At the 15m cycle pid_pacing sets the bids many times in 12 h.
    assert max(x for n in ctx["campaigns"] for x in ctx["results"]["15m"][n]["bid_changes_per_day"]) > 24
    page = tmp_path / "cc.md"
    assert study.main(["--render", str(saved), "--doc", str(page)]) == 0
    assert "How fast a shock is answered" in page.read_text()


def test_resumed_control_cycle_study_equals_an_uninterrupted_one(scripts, tmp_path):
    """An interrupted study keeps its finished seeds (SAVE.partial) and --resume
    runs only the others: the result is the same as one run of all seeds."""
    _, study = scripts
    full = tmp_path / "full.json"
    argv = ["--cycles", "15m,1h", "--reference", "15m", "--seeds", "2", "--duration", "6h"]
    assert study.main(argv + ["--save", str(full)]) == 0
    whole = json.loads(full.read_text())
    assert json.loads((tmp_path / "full.json.partial").read_text())["seeds"] == [1, 2]
    # The checkpoint after seed 1, as an interrupted study leaves it.
    first = {**whole, "seeds": [1], "interrupted": 2,
             "results": {c: {n: {k: v[:1] for k, v in per.items()} for n, per in by.items()}
                         for c, by in whole["results"].items()}}
    partial = tmp_path / "first.json"
    partial.write_text(json.dumps(first))
    page = tmp_path / "partial.md"
    assert study.main(["--render", str(partial), "--doc", str(page)]) == 0
    assert "stopped at the deadline with 1 of 2 seeds finished" in page.read_text()
    resumed = tmp_path / "resumed.json"
    assert study.main(argv + ["--resume", str(partial), "--save", str(resumed)]) == 0
    again = json.loads(resumed.read_text())
    assert again["seeds"] == [1, 2] and "interrupted" not in again
    # The same numbers (compared as JSON: the NaN of a cycle without oracles equals itself there).
    assert json.dumps(again["results"], sort_keys=True) == json.dumps(whole["results"], sort_keys=True)
    with pytest.raises(SystemExit) as exit_info:
        study.main(["--cycles", "15m,2h", "--reference", "15m", "--seeds", "2", "--resume", str(partial)])
    assert exit_info.value.code == 2


def test_control_cycle_page_is_what_its_generator_writes(tmp_path):
    saved = BENCH / "results" / "control_cycle.json"
    page = REPO / "docs" / "control-cycle.md"
    assert saved.is_file(), f"{saved.relative_to(REPO)} missing: run bench/control_cycle_study.py (docs/control-cycle.md)"
    out = tmp_path / "control-cycle.md"
    result = subprocess.run([sys.executable, str(BENCH / "control_cycle_study.py"), "--render", str(saved), "--doc",
                             str(out)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert out.read_text() == page.read_text(), (
        "docs/control-cycle.md differs from what bench/control_cycle_study.py renders from "
        "bench/results/control_cycle.json: edit the script and re-render, not the page")


def test_tuned_fixed_ablation_is_named_by_what_it_runs(bench_import, scenario, tmp_path):
    """bench/strategy_comparison.py --tuned: a fixed-bid point that moves budget between campaigns is named
    with its budget_reallocation (method, half-life) in the rendered tables; without reallocation it keeps the
    ablation's name. A real short run (2 days, 2 seeds: the page's prose reads days after the first)."""
    comparison = bench_import("strategy_comparison")
    assert comparison.fixed_ablation_name({"budget_reallocation.method": "none"}) == comparison.FIXED_ABLATION
    assert comparison.fixed_ablation_name({"budget_reallocation.method": "thompson"}) == (
        "fixed bids + pid_pacing + creative_thompson + budget_reallocation (thompson)")
    short, tuned = tmp_path / "short.yaml", tmp_path / "tuned.yaml"
    short.write_text(yaml.safe_dump({**scenario, "duration": "2d"}))
    tuned.write_text(yaml.safe_dump({"fixed": {"budget_reallocation.method": "rule",
                                               "budget_reallocation.half_life_hours": 12.0}}))
    saved, page = tmp_path / "ctx.json", tmp_path / "page.md"
    result = subprocess.run([sys.executable, str(BENCH / "strategy_comparison.py"), "--scenario", str(short),
                             "--seeds", "2", "--cycles", "15m", "--no-spend-match", "--oracle", "none",
                             "--tuned", str(tuned), "--save", str(saved), "--doc", str(page)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    name = "fixed bids + pid_pacing + creative_thompson + budget_reallocation (rule, half-life 12 h)"
    ctx = json.loads(saved.read_text())
    assert name in ctx["ablations"] and comparison.FIXED_ABLATION not in ctx["ablations"]
    # In the same place among the ablations, and a row of the rendered table.
    assert ctx["ablations"].index(name) == 2
    text = page.read_text()
    assert f"\n| {name} | " in text and f"\n| {comparison.FIXED_ABLATION} | " not in text
    assert "with its tuned values it moves budget between campaigns" in text


def test_mixed_stack_builds_the_per_campaign_components_it_claims(scripts, scenario, tmp_path):
    """Every mixed candidate: a campaign with recipe "fixed" bids fixed, "value" has its goal's value bidder
    without fatigue, "value+fatigue" has `fatigue: exposure` in its value bidder and its creative_thompson;
    every campaign keeps pid_pacing (with the shared values) and creative_thompson; budget_reallocation only
    when the candidate names a method. Recipes that are not one of the three, or name no campaign, are refused."""
    tune, _ = scripts
    names = [c["name"] for c in scenario["campaigns"]]
    assert sorted(tune.MIXED_CAMPAIGNS) == sorted(names)
    assert tune.STACK_DEFAULTS["mixed"] == tune.MIXED_CANDIDATES[0]
    kinds = set()
    for point in tune.MIXED_CANDIDATES:
        sc = tune.stack_scenario(scenario, "mixed", point)
        assert sc["control_cycle"] == point["control_cycle"]
        for camp in sc["campaigns"]:
            recipe = point[f"campaign.{camp['name']}"]
            kinds.add(recipe)
            controllers = {c["type"]: c.get("params", {}) for c in camp["controllers"]}
            assert controllers["pid_pacing"] == {"kp": point["pid_pacing.kp"], "ki": point["pid_pacing.ki"],
                                                 "max_multiplier": point["pid_pacing.max_multiplier"]}
            assert controllers["creative_thompson"].get("fatigue") == (
                "exposure" if recipe == "value+fatigue" else None)
            if recipe == "fixed":
                assert camp["bidder"] == "fixed"
            else:
                wanted = "target_cpa" if "cpa" in camp["goal"] else "target_roas"
                assert camp["bidder"]["type"] == wanted
                assert camp["bidder"]["params"].get("fatigue") == ("exposure" if recipe == "value+fatigue" else None)
        method = point["budget_reallocation.method"]
        if method == "none":
            assert "controllers" not in sc
        else:
            assert sc["controllers"][0]["type"] == "budget_reallocation"
            assert sc["controllers"][0]["params"]["method"] == method
        tune.adsim.validate(sc)
    assert kinds == set(tune.MIXED_RECIPES)
    with pytest.raises(ValueError, match="expected one of value, value\\+fatigue, fixed, not 'oracle'"):
        tune.stack_scenario(scenario, "mixed", {**tune.MIXED_CANDIDATES[0], "campaign.cross_retail": "oracle"})
    with pytest.raises(ValueError, match="no campaign 'nowhere'"):
        tune.stack_scenario(scenario, "mixed", {**tune.MIXED_CANDIDATES[0], "campaign.nowhere": "fixed"})
    bad = tmp_path / "tuned.yaml"
    bad.write_text("mixed:\n  campaign.cross_retail: oracle\n")
    with pytest.raises(ValueError, match=r"mixed.campaign.cross_retail: expected value, value\+fatigue or fixed"):
        tune.read_params(str(bad))
    bad.write_text("value:\n  campaign.cross_retail: fixed\n")
    with pytest.raises(ValueError, match="value.campaign.cross_retail: unknown parameter"):
        tune.read_params(str(bad))


def test_mixed_screen_picks_the_largest_minimum_share_and_keeps_the_other_stacks(scripts, scenario, tmp_path):
    """`--stacks mixed` after `--stacks value` (3 simulated hours, 2 tuning and 2 held-out seeds): the screen
    runs every candidate with each campaign's oracle, each row's shares are the mean of the per-seed shares of
    a run with oracles, the chosen candidate has the largest minimum share (ties by conversions), the value
    stack's tuning, held-out measurements and tuned values are kept verbatim, and the rendered sections state
    the mixed stack's verdicts and whether it is the best stack by the unchanged rule (most conversions)."""
    tune, _ = scripts
    params, saved = tmp_path / "tuned.yaml", tmp_path / "tuning.json"
    common = ["--tuning-seeds", "101-102", "--seeds", "2", "--duration", "3h", "--save", str(saved),
              "--params", str(params)]
    assert tune.main(["--stacks", "value", "--points", "1"] + common) == 0
    first, first_params = json.loads(saved.read_text()), params.read_text()
    assert tune.main(["--stacks", "mixed"] + common) == 0
    ctx = json.loads(saved.read_text())
    rows = ctx["tuning"]["mixed"]["candidates"]
    assert [r["params"] for r in rows] == tune.MIXED_CANDIDATES
    best = ctx["tuning"]["mixed"]["best"]
    assert all(tune.min_share_key(rows[best]) >= tune.min_share_key(r) for r in rows)
    for r in rows:
        assert r["min_share"] == min(r["shares"].values()) and sorted(r["shares"]) == sorted(tune.MIXED_CAMPAIGNS)
    # The chosen row's shares are those of its run with oracles, recomputed here (same seeds: same runs).
    short = {**scenario, "duration": "3h"}
    again = tune.adsim.sweep(tune.stack_scenario(short, "mixed", rows[best]["params"]), seeds=[101, 102],
                             workers=2, progress=False, oracle=True)
    for name, entry in tune.per_campaign(again, "base").items():
        conv, oconv = tune.np.array(entry["conversions"]), tune.np.array(entry["oracle_conversions"])
        expected = (conv[oconv > 0] / oconv[oconv > 0]).mean() if (oconv > 0).any() else math.nan
        assert rows[best]["shares"][name] == pytest.approx(expected, nan_ok=True)
    assert tune.read_params(str(params))["mixed"] == rows[best]["params"]
    # The value stack: kept verbatim.
    assert ctx["tuning"]["value"] == first["tuning"]["value"]
    assert params.read_text().split("\nvalue:\n", 1)[1].split("\nmixed:\n", 1)[0] + "\n" == \
        first_params.split("\nvalue:\n", 1)[1]
    held = ctx["held_out"]
    assert held["ran"] == ["mixed"]
    for key in ("value defaults", "value tuned", "baseline"):
        assert held["totals"][key] == first["held_out"]["totals"][key]
    assert held["targets"]["value"] == first["held_out"]["targets"]["value"]
    assert set(held["targets"]["mixed"]) == {"oracle", "equal_spend"}
    # The best stack is still the one with the most conversions on the tuning seeds.
    chosen = {s: t["candidates"][t["best"]]["conversions"] for s, t in ctx["tuning"].items()}
    assert chosen[held["best_stack"]] == max(chosen.values())
    sections = tune.render_sections(ctx)
    assert any(line.startswith("**The `mixed` stack: a recipe per campaign") for line in sections["tuning"])
    verdict = next(line for line in sections["targets"] if line.startswith("**The `mixed` stack against the targets**"))
    a = tune._target_a(held["targets"]["mixed"]["oracle"])
    assert ("(a) met" if a["met"] else "(a) **not met**") in verdict
    assert ("It is the best stack" if held["best_stack"] == "mixed" else "It is not the best stack") in verdict
    assert "| campaign | `value` tuned | `mixed` tuned |" in sections["targets"]
