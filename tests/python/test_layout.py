"""The source layout's rules hold (scripts/check_layout.py), and the checker itself finds what it should.

Owns: running scripts/check_layout.py on the clone, and checking it on small
synthetic trees (each rule fires on a violation and stays quiet on the
allowed case), so a broken checker cannot pass a broken layout.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "check_layout.py"


def _load_checker():
    spec = importlib.util.spec_from_file_location("check_layout", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_layout"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


check_layout = _load_checker()


def test_the_layout_rules_hold():
    """Every include rule and naming rule of docs/engine.md's layout, on this clone."""
    result = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"layout violations:\n{result.stdout}{result.stderr}"


def write(root: Path, files: dict) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


# The one-line registration macros of core/registry.h and core/market.h.
REGISTRATION = 'ADSIM_REGISTER_{kind}(Component, "{name}", "What it does.",\n    NumberParam("x", 1, "a parameter"));\n'
MARKET = 'ADSIM_REGISTER_MARKET("{name}", "What it is.", SomeMarket);\n'


def test_a_clean_tree_passes(tmp_path: Path):
    root = write(tmp_path, {
        "core/types.h": "",
        "core/strategy.h": '#include "core/types.h"\n',
        "core/engine/run_loop.cc": '#include "core/strategy.h"\n#include <vector>\n',
        "core/cli/main.cc": '#include "simulators/synthetic.h"\n',
        "simulators/synthetic.h": '#include "core/types.h"\n',
        "simulators/synthetic.cc": '#include "simulators/synthetic.h"\n'
                                   + MARKET.format(name="synthetic"),
        "strategies/bidders/fixed.cc": '#include "core/strategy.h"\n' + REGISTRATION.format(name="fixed",
                                                                                           kind="BIDDER"),
        "strategies/bidders/lib/estimates.h": '#include "core/strategy.h"\n',
        "strategies/experiments/ab_test_analysis.cc": REGISTRATION.format(name="ab_test", kind="ANALYSIS"),
        "strategies/monitors/kpi_cusum.cc": 'ADSIM_REGISTER_MONITOR(KpiCusum, "kpi_cusum", "d");\n',
        "python/bindings/module.cc": '#include "core/strategy.h"\n',
    })
    violations, count = check_layout.check(root)
    assert [str(v) for v in violations] == []
    assert count == 4


def test_each_rule_fires(tmp_path: Path):
    root = write(tmp_path, {
        "core/scenario.h": "",
        "core/engine/run_loop.cc": '#include "strategies/bidders/fixed.h"\n',
        "core/results.cc": '#include "simulators/market.h"\n',
        "simulators/market.h": '#include "core/engine/run_state.h"\n',
        "core/engine/run_state.h": "",
        "strategies/bidders/fixed.h": "",
        "strategies/bidders/value.cc": '#include "core/scenario.h"\n'
                                       + REGISTRATION.format(name="value_linear", kind="BIDDER"),
        "strategies/controllers/fixed.cc": REGISTRATION.format(name="fixed", kind="BIDDER"),
        "strategies/bidders/lib/helper.cc": REGISTRATION.format(name="helper", kind="BIDDER"),
        "python/bindings/run.cc": '#include "core/engine/run_state.h"\n',
    })
    violations, _ = check_layout.check(root)
    found = {(v.path, v.rule.split(" ")[0] + " " + v.rule.split(" ")[-1]) for v in violations}
    text = "\n".join(str(v) for v in violations)
    expected = [
        ("core/engine/run_loop.cc", "never includes simulators/ or strategies/"),
        ("core/results.cc", "includes only core/"),
        ("simulators/market.h", "public headers"),
        ("strategies/bidders/value.cc", "core/scenario.h"),
        ("strategies/bidders/value.cc", "file name is its registered name"),
        ("strategies/controllers/fixed.cc", "folder is its kind"),
        ("strategies/bidders/lib/helper.cc", "folder is its kind"),
        ("python/bindings/run.cc", "python/ never includes core/engine/"),
    ]
    for path, words in expected:
        assert any(v.path == path and words in v.rule for v in violations), f"{path}: {words} not in\n{text}"
    assert len(violations) == len(expected), text
    assert found  # every violation names its file and rule


def test_registration_patterns():
    """Every registration macro form is read, over several lines too; other text is not."""
    text = (REGISTRATION.format(name="fixed", kind="BIDDER")
            + 'ADSIM_REGISTER_CONTROLLER(\n    PidPacing, "pid_pacing", "d")\n'
            + 'ADSIM_REGISTER_SCENARIO_CONTROLLER(Realloc, "budget_reallocation", "d")\n'
            + 'ADSIM_REGISTER_ANALYSIS(experiments::AbTest, "ab_test", "d");\n'
            + MARKET.format(name="synthetic")
            + 'ADSIM_REGISTER_MONITOR(KpiCusum, "kpi_cusum", "d");\n'
            + '// registers "nothing": NumberParam("fixed", 1, "x")\n')
    found = sorted((name, kind) for name, kind, _ in check_layout.registrations(text))
    assert found == [("ab_test", "analysis"), ("budget_reallocation", "controller"), ("fixed", "bidder"),
                     ("kpi_cusum", "monitor"), ("pid_pacing", "controller"), ("synthetic", "market")]
