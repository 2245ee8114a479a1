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


REGISTRATION = 'const Registration k({{\n    .name = "{name}",\n    .kind = ComponentKind::{kind},\n}});\n'


def test_a_clean_tree_passes(tmp_path: Path):
    root = write(tmp_path, {
        "core/types.h": "",
        "core/strategy.h": '#include "core/types.h"\n',
        "core/engine/run_loop.cc": '#include "core/strategy.h"\n#include <vector>\n',
        "core/cli/main.cc": '#include "simulators/synthetic.h"\n',
        "simulators/synthetic.h": '#include "core/types.h"\n',
        "simulators/synthetic.cc": '#include "simulators/synthetic.h"\n'
                                   + REGISTRATION.format(name="synthetic", kind="kMarket"),
        "strategies/bidders/fixed.cc": '#include "core/strategy.h"\n' + REGISTRATION.format(name="fixed",
                                                                                           kind="kBidder"),
        "strategies/bidders/lib/estimates.h": '#include "core/strategy.h"\n',
        "strategies/experiments/ab_test_analysis.cc": REGISTRATION.format(name="ab_test", kind="kAnalysis"),
        "strategies/monitors/kpi_cusum.cc": 'ADSIM_REGISTER_MONITOR("kpi_cusum", Make);\n',
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
                                       + REGISTRATION.format(name="value_linear", kind="kBidder"),
        "strategies/controllers/fixed.cc": REGISTRATION.format(name="fixed", kind="kBidder"),
        "strategies/bidders/lib/helper.cc": REGISTRATION.format(name="helper", kind="kBidder"),
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
    """Today's designated initialisers and the one-line macro forms are all read."""
    text = (REGISTRATION.format(name="fixed", kind="kBidder")
            + 'ADSIM_REGISTER_CONTROLLER(pid_pacing, Make)\n'
            + 'REGISTER_ANALYSIS("ab_test", Make);\n'
            + 'RegisterMarket("synthetic", Make);\n'
            + 'ADSIM_REGISTER(kMonitor, kpi_cusum, Make);\n')
    found = sorted((name, kind) for name, kind, _ in check_layout.registrations(text))
    assert found == [("ab_test", "analysis"), ("fixed", "bidder"), ("kpi_cusum", "monitor"),
                     ("pid_pacing", "controller"), ("synthetic", "market")]
