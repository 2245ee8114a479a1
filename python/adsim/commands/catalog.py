"""`adsim catalog`: the run catalogue's command line (add, list, show, compare, tag, remove).

The catalogue itself (its SQLite schema, where the file is, what a row holds)
is python/adsim/_catalog.py; docs/catalog.md documents both.
"""

from __future__ import annotations

import argparse
import json
import math
from typing import Any, Dict

HELP = "catalogue result files with tags and notes, find them and compare their KPIs"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="FILE",
                        help="catalogue file (default: $ADSIM_CATALOG, else ~/.local/share/adsim/catalog.sqlite)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    add = sub.add_parser("add", help="catalogue a result file (again: refresh it, add tags)")
    add.add_argument("file", metavar="RUN.h5")
    add.add_argument("--tag", action="append", default=[], help="a tag (repeat, or comma-separated)")
    add.add_argument("--note", help="free text kept with the run")
    listing = sub.add_parser("list", help="the catalogued runs, oldest first")
    listing.add_argument("--tag", action="append", default=[], help="only runs with this tag (repeat: all of them)")
    listing.add_argument("--text", help="only runs whose note, tags, scenario, path, seed or strategies contain it")
    listing.add_argument("--json", action="store_true", help="JSON (a list of objects) instead of a table")
    show = sub.add_parser("show", help="every field of one run")
    show.add_argument("id", metavar="ID")
    show.add_argument("--json", action="store_true", help="JSON instead of text")
    compare = sub.add_parser("compare", help="two runs' headline KPIs side by side")
    compare.add_argument("first", metavar="A")
    compare.add_argument("second", metavar="B")
    compare.add_argument("--json", action="store_true", help="JSON instead of a table")
    tag = sub.add_parser("tag", help="add (or --remove) tags of a run")
    tag.add_argument("id", metavar="ID")
    tag.add_argument("tags", nargs="+", metavar="TAG")
    tag.add_argument("--remove", action="store_true", help="remove these tags instead")
    remove = sub.add_parser("remove", help="remove a run from the catalogue (the file stays)")
    remove.add_argument("id", metavar="ID")


def _text(value: Any, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return str(value)


def _json_safe(row: Dict[str, Any]) -> Dict[str, Any]:
    out = {}
    for key, value in row.items():
        if hasattr(value, "item"):
            value = value.item()
        if isinstance(value, float) and math.isnan(value):
            value = None
        out[key] = value
    return out


def main(args: argparse.Namespace) -> int:
    from .._catalog import Catalog, to_json

    catalog = Catalog(args.db)
    if args.action == "add":
        run_id = catalog.add(args.file, tags=args.tag, note=args.note)
        row = catalog.get(run_id)
        print(f"run {run_id}: {row['path']} ({row['scenario_name']}, seed {row['seed']}, "
              f"tags: {row['tags'] or 'none'}) in {catalog.path}")
        return 0
    if args.action == "list":
        runs = catalog.runs(tags=args.tag, text=args.text)
        if args.json:
            print(to_json(runs))
            return 0
        if runs.empty:
            print(f"no runs{' match' if args.tag or args.text else ''} in {catalog.path}")
            return 0
        columns = ["id", "added", "scenario_name", "seed", "tags", "spend", "conversions", "cpa", "roas", "note"]
        table = runs[columns].copy()
        for column in ("spend", "conversions", "cpa", "roas"):
            table[column] = table[column].map(_text)
        table["added"] = table["added"].str.slice(0, 10)
        table["note"] = table["note"].map(lambda n: n if len(n) <= 40 else n[:39] + "…")
        print(table.rename(columns={"scenario_name": "scenario"}).to_string(index=False))
        return 0
    if args.action == "show":
        row = catalog.get(args.id)
        if args.json:
            print(json.dumps(_json_safe(row), indent=2))
        else:
            width = max(len(k) for k in row)
            for key, value in row.items():
                print(f"{key:<{width}}  {_text(value, 6) if isinstance(value, float) else (value if value not in (None, '') else '-')}")
        return 0
    if args.action == "compare":
        frame = catalog.compare(args.first, args.second)
        if args.json:
            print(json.dumps({kpi: _json_safe(values) for kpi, values in frame.to_dict(orient="index").items()}, indent=2))
        else:
            a, b = catalog.get(args.first), catalog.get(args.second)
            for run in (a, b):
                print(f"run {run['id']}: {run['scenario_name']} seed {run['seed']} [{run['tags'] or 'no tags'}] {run['path']}")
            if a["scenario_fingerprint"] == b["scenario_fingerprint"] and a["seed"] == b["seed"]:
                print("same scenario and seed")
            elif a["seed"] == b["seed"]:
                print("different scenarios, same seed (common random numbers when only strategies differ)")
            print(frame.apply(lambda column: column.map(_text)).to_string())
        return 0
    if args.action == "tag":
        catalog.tag(args.id, args.tags, remove=args.remove)
        print(f"run {int(args.id)}: tags {catalog.get(args.id)['tags'] or 'none'}")
        return 0
    if args.action == "remove":
        catalog.remove(args.id)
        print(f"removed run {int(args.id)} from {catalog.path}")
        return 0
    return 2
