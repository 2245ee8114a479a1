#!/usr/bin/env python3
"""Checks the source layout's rules, so the layout cannot drift back.

Owns: the include rules between core/, core/engine/, simulators/,
strategies/ and python/, and the rule that a component's file is named after
what it registers and sits in its kind's folder (docs/engine.md, "Layout").
It reads the sources only (no build needed) and prints every violation, one
a line, as `FILE:LINE: rule: what was found`; exit status 1 if there is any.

    scripts/check_layout.py            # from a clone, anywhere
    scripts/check_layout.py --root DIR

Only quoted includes (`#include "..."`) of files of this repository count;
system and third-party headers (`<...>`) are not checked. An include is
resolved relative to the including file first, then to the repository root.
The checks are on direct includes.

The registration format is read by the patterns in REGISTRATION_PATTERNS:
when the registration macros change, add a pattern there (each yields the
registered name and the kind, as a word such as `bidder` or `kBidder`).
"""

from __future__ import annotations

import argparse
import pathlib
import re
import sys
from dataclasses import dataclass

SOURCE_SUFFIXES = {".h", ".hh", ".hpp", ".cc", ".cpp", ".cxx", ".inl"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)

# Where each kind of component lives. A kind's files may sit in the folder or
# in a subfolder of it, except lib/ (libraries that register nothing).
KIND_FOLDERS = {
    "bidder": "strategies/bidders",
    "controller": "strategies/controllers",
    "monitor": "strategies/monitors",
    "analysis": "strategies/experiments",
    "market": "simulators",
    "response": "simulators",
}
# A file registering a component of a kind is named <name><suffix>.cc; analyses
# end in _analysis so that tools skipping *_test.cc files do not skip them.
KIND_FILE_SUFFIX = {"analysis": "_analysis"}

# How a registration names its component and kind. Each pattern has the
# groups `name` and `kind`; the kind is normalised by normalise_kind().
REGISTRATION_PATTERNS = [
    # The one-line macros of core/registry.h, the component's class first:
    #   ADSIM_REGISTER_BIDDER(FixedBidder, "fixed", "description", params...)
    #   ADSIM_REGISTER_SCENARIO_CONTROLLER(BudgetReallocation, "budget_reallocation", ...)
    re.compile(r'\bADSIM_REGISTER_(?P<kind>BIDDER|CONTROLLER|SCENARIO_CONTROLLER|MONITOR|ANALYSIS)\s*\(\s*'
               r'[A-Za-z_][\w:<>]*\s*,\s*"(?P<name>[^"]+)"'),
    # Markets (core/market.h), the name first: ADSIM_REGISTER_MARKET("synthetic", "description", SyntheticMarket)
    re.compile(r'\bADSIM_REGISTER_(?P<kind>MARKET)\s*\(\s*"(?P<name>[^"]+)"'),
]


def normalise_kind(word: str) -> str:
    """kBidder, BIDDER, Bidder, bidder -> bidder; kScenarioController -> controller."""
    w = word.lower()
    if w.startswith("k") and w[1:] in {"bidder", "controller", "monitor", "analysis", "market", "responsemodel"}:
        w = w[1:]
    w = w.replace("_", "")
    if "controller" in w:
        return "controller"
    if w in {"responsemodel", "response"}:
        return "response"
    if w in {"experimentanalysis", "experiment"}:
        return "analysis"
    return w


@dataclass
class Violation:
    path: str
    line: int
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.detail}"


def sources(root: pathlib.Path, top: str):
    base = root / top
    if not base.is_dir():
        return []
    return sorted(p for p in base.rglob("*") if p.suffix in SOURCE_SUFFIXES and p.is_file())


def resolve(root: pathlib.Path, source: pathlib.Path, target: str) -> str | None:
    """The repository path an include names, or None if it is not a file of the repository."""
    local = (source.parent / target).resolve()
    if local.is_file() and root in local.parents:
        return local.relative_to(root).as_posix()
    from_root = (root / target).resolve()
    if from_root.is_file() and root in from_root.parents:
        return from_root.relative_to(root).as_posix()
    return None


def under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def include_rule(src: str, inc: str) -> str | None:
    """The rule `src` including `inc` breaks, or None."""
    if under(src, "core") and not under(src, "core/engine") and not under(src, "core/cli"):
        if not under(inc, "core"):
            return "core/ outside core/engine/ and core/cli/ includes only core/"
    if under(src, "core/engine") and (under(inc, "simulators") or under(inc, "strategies")):
        return "core/engine/ never includes simulators/ or strategies/"
    if under(src, "simulators"):
        if under(inc, "core/engine") or under(inc, "core/cli") or not (under(inc, "core") or under(inc, "simulators")):
            return "simulators/ includes only core's public headers (and simulators/)"
    if under(src, "strategies"):
        if inc == "core/scenario.h" or under(inc, "core/engine") or under(inc, "simulators"):
            return "strategies/ never includes core/scenario.h, core/engine/ or simulators/"
    if under(src, "python") and under(inc, "core/engine"):
        return "python/ never includes core/engine/"
    return None


def check_includes(root: pathlib.Path) -> list[Violation]:
    out = []
    for top in ("core", "simulators", "strategies", "python"):
        for path in sources(root, top):
            src = path.relative_to(root).as_posix()
            text = path.read_text(errors="replace")
            for m in INCLUDE.finditer(text):
                inc = resolve(root, path, m.group(1))
                if inc is None:
                    continue
                rule = include_rule(src, inc)
                if rule:
                    line = text.count("\n", 0, m.start()) + 1
                    out.append(Violation(src, line, rule, f'#include "{m.group(1)}"'))
    return out


def registrations(text: str):
    """(name, kind, line) of every registration in a source text."""
    seen = set()
    for pattern in REGISTRATION_PATTERNS:
        for m in pattern.finditer(text):
            key = (m.group("name"), normalise_kind(m.group("kind")))
            if key in seen:
                continue
            seen.add(key)
            yield key[0], key[1], text.count("\n", 0, m.start()) + 1


def check_components(root: pathlib.Path) -> tuple[list[Violation], int]:
    out, count = [], 0
    for top in ("strategies", "simulators"):
        for path in sources(root, top):
            if path.suffix not in {".cc", ".cpp", ".cxx"}:
                continue
            src = path.relative_to(root).as_posix()
            regs = list(registrations(path.read_text(errors="replace")))
            count += len(regs)
            if len(regs) > 1:
                names = ", ".join(f"{k} '{n}'" for n, k, _ in regs)
                out.append(Violation(src, regs[1][2], "one component per file", f"registers {names}"))
            for name, kind, line in regs:
                folder = KIND_FOLDERS.get(kind)
                expected = name + KIND_FILE_SUFFIX.get(kind, "")
                if path.stem != expected:
                    out.append(Violation(src, line, "a component's file name is its registered name",
                                         f"registers {kind} '{name}', expected a file named {expected}{path.suffix}"))
                if folder is None:
                    out.append(Violation(src, line, "a component's folder is its kind",
                                         f"registers '{name}' of unknown kind '{kind}' (add it to KIND_FOLDERS)"))
                elif not under(src, folder) or "/lib/" in "/" + src:
                    out.append(Violation(src, line, "a component's folder is its kind",
                                         f"registers {kind} '{name}', expected it under {folder}/ (not in a lib/)"))
    return out, count


def check(root: pathlib.Path) -> tuple[list[Violation], int]:
    root = root.resolve()
    includes = check_includes(root)
    components, count = check_components(root)
    return includes + components, count


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=str(pathlib.Path(__file__).resolve().parents[1]),
                    help="repository root (default: this script's clone)")
    args = ap.parse_args(argv)
    violations, count = check(pathlib.Path(args.root))
    for v in violations:
        print(v)
    print(f"check_layout: {len(violations)} violation(s); {count} component registration(s) read",
          file=sys.stderr)
    if count == 0:
        print("check_layout: no registration found: update REGISTRATION_PATTERNS in scripts/check_layout.py",
              file=sys.stderr)
        return 1
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
