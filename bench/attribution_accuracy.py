#!/usr/bin/env python3
"""Attribution accuracy against the simulator's truth (docs/attribution.md,
"Accuracy against truth"): runs each bench/scenarios/journeys_*.yaml (journeys
with ``truth: true``) over a few seeds, scores every attribution model, the
dashboards' reports and the drawn causes with Result.attribution_accuracy
(1 - 1/2 sum |model share - true share|), and prints Markdown tables of the
mean score per model and scenario (conversions), per channel and per campaign,
against the Shapley truth and against the removal truth, with the seeds'
spread, plus the dashboards' over-attribution ratio.

    .venv/bin/python bench/attribution_accuracy.py --seeds 1,2,3
    .venv/bin/python bench/attribution_accuracy.py --seeds 1-30 --holdout 0.2 --workers 2

--scope channel or campaign prints one scope only (both by default; every run
is scored in both). Per campaign, the path models run on the campaign paths;
with --holdout, the holdout models' channel credit is split between each
channel's campaigns by their impressions there.

With --holdout SHARE, every channel of every scenario holds out SHARE of its
users (journeys.holdout: held-out users see none of our ads there) and the
`holdout` model (holdout-measured incrementality, what a real advertiser can
observe) and the `holdout_calibrated` model (the holdout shrunk toward path
models' shares: by default averaged over several path models by how well each
fits the holdout; see docs/attribution.md) are scored beside the others, with
holdout_calibrated also run with single path models as its prior
(calibration_prior) under the names holdout_calibrated_PRIOR. The runs, and so
the truth, differ from the runs without a holdout. A second table then gives,
per scenario, the paired difference (over seeds) between holdout_calibrated
and the best heuristic and the best of Markov/Shapley of that scenario, with
95% t intervals, a verdict, and the numbers that explain it (the holdout's
noise against the path models' error), and a third the default against its
single-prior variants.

--save-scores FILE.csv writes every score (one row per scenario, seed, scope
and model) and the per-run noise and totals beside it; --load-scores FILE.csv
prints the tables from such a file instead of running (restricted to --seeds,
so a 60-seed file also gives the 30-seed tables).

Small on purpose (3 simulated days, a few thousand opportunities per hour):
one run takes 2-4 s on a loaded 2-core machine.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import pandas as pd
import yaml
from scipy import stats

import adsim

REPO = Path(__file__).resolve().parents[1]

HEURISTICS = ["first_touch", "last_touch", "linear", "linear_unique", "time_decay", "position_based"]
MARKOV_SHAPLEY = ["markov1", "markov2", "shapley"]
MODELS = HEURISTICS + MARKOV_SHAPLEY
#: holdout_calibrated with one path model as its prior (calibration_prior), scored under these names
#: (the one equal to the default prior is left out: it is holdout_calibrated itself).
CALIBRATED_PRIORS = {
    "holdout_calibrated_first_touch": "first_touch",
    "holdout_calibrated_markov2": "markov2",
    "holdout_calibrated_shapley": "shapley",
    "holdout_calibrated_average": "average",
    "holdout_calibrated_best_fit": "best_fit",
}
SCENARIOS = ["base", "low_overlap", "long_delay", "saturation", "high_baseline", "strong_view", "interactions"]


def default_prior() -> str:
    """holdout_calibrated's default calibration_prior, as the library lists it."""
    return dict(adsim.attribution_models()["params"])["calibration_prior"]


def calibrated_variants() -> Dict[str, str]:
    """The single-prior variants scored beside holdout_calibrated (its default prior left out)."""
    default = default_prior()
    return {label: prior for label, prior in CALIBRATED_PRIORS.items() if prior != default}


def one_run(job: Tuple[str, int, float]) -> Tuple[pd.DataFrame, Dict[str, object]]:
    """Runs one scenario and seed and scores it per channel and per campaign: the scores
    (scenario, seed, scope, model, conversions_vs_*, value_vs_*) and the run's totals and
    holdout noise."""
    name, seed, holdout = job
    path = REPO / "bench" / "scenarios" / f"journeys_{name}.yaml"
    scenario: object = str(path)
    if holdout > 0:
        with open(path, encoding="utf-8") as handle:
            scenario = yaml.safe_load(handle)
        scenario["journeys"]["holdout"] = {channel["name"]: holdout for channel in scenario["channels"]}
    started = time.perf_counter()
    result = adsim.run(scenario, seed=seed)
    models = MODELS + (["holdout", "holdout_calibrated"] if holdout > 0 else [])
    scores = [result.attribution_accuracy(models=models)]
    if holdout > 0:
        for label, prior in calibrated_variants().items():
            extra = result.attribution_accuracy(models=["holdout_calibrated"], calibration_prior=prior)
            extra = extra[(extra["scope"] == "channel") & (extra["model"] == "holdout_calibrated")]
            scores.append(extra.assign(model=label))
        scores.append(campaign_scores(result))
    truth = result.journey_truth
    conversions = result.journey_conversions
    run: Dict[str, object] = {
        "scenario": name,
        "seed": seed,
        "conversions": len(conversions),
        "incremental": int((conversions["organic"] == 0).sum()),
        "holdout_se_share": holdout_noise(result) if holdout > 0 else math.nan,
    }
    for scope in ("channel", "campaign"):
        players = truth[truth["scope"] == scope]
        run[f"removal_sum_{scope}"] = players["removal_conversions"].sum()
        run[f"reported_sum_{scope}"] = players["reported_conversions"].sum()
    run["seconds"] = time.perf_counter() - started
    print(f"  {name} seed {seed}: {run['seconds']:.1f} s", file=sys.stderr, flush=True)
    frame = pd.concat(scores, ignore_index=True).assign(scenario=name, seed=seed)
    return frame, run


def holdout_noise(result: adsim.Result) -> float:
    """The holdout's noise on one run: its standard error per channel over its measured total
    (sqrt(mean s_c^2) / sum h_c), to set beside the path models' error (1 - their accuracy)."""
    credit = result.attribute(["holdout"]).set_index("channel")
    total = credit["conversions"].sum()
    return math.sqrt((credit["conversions_se"] ** 2).mean()) / total if total > 0 else math.nan


def campaign_scores(result: adsim.Result) -> pd.DataFrame:
    """The holdout models per campaign: a channel holdout measures channels, so each channel's
    credit is split between the campaigns that ran on it by their share of the channel's
    impressions (what the advertiser's own ad server logs), then scored against the campaign
    truth like the other models (a negative credit counting 0)."""
    impressions = result.kpis(by=["campaign", "channel"])
    channel_total = impressions.groupby("channel_name", observed=True)["impressions"].transform("sum")
    impressions = impressions.assign(part=impressions["impressions"] / channel_total)
    truth = result.journey_truth
    players = truth[truth["scope"] == "campaign"].set_index("name")
    credit = result.attribute(["holdout", "holdout_calibrated"])
    rows = []
    for model, group in credit.groupby("model", sort=False):
        by_channel = group.set_index("channel")
        row: Dict[str, object] = {"model": model, "scope": "campaign"}
        for measure in ("conversions", "value"):
            amount = impressions["part"] * impressions["channel_name"].astype(str).map(by_channel[measure]).fillna(0.0)
            per_campaign = amount.groupby(impressions["campaign_name"].astype(str)).sum().clip(lower=0)
            for game in ("removal", "shapley"):
                row[f"{measure}_vs_{game}"] = adsim.attribution_accuracy_score(
                    per_campaign, players[f"{game}_{measure}"])
        rows.append(row)
    return pd.DataFrame(rows)


def interval(difference: Sequence[float]) -> Tuple[float, float, float]:
    """Mean of paired differences and its 95% t interval."""
    values = pd.Series(list(difference), dtype=float)
    mean = float(values.mean())
    half = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / math.sqrt(len(values)))
    return mean, mean - half, mean + half


def verdict(*comparisons: Tuple[float, float, float]) -> str:
    """'beats' when every interval is above 0, 'behind' when one is below 0, else 'level'."""
    if all(low > 0 for _, low, _ in comparisons):
        return "beats"
    if any(high < 0 for _, _, high in comparisons):
        return "behind"
    return "level"


def paired(scores: pd.DataFrame, model: str, column: str, scenarios: List[str]) -> List[Dict[str, object]]:
    """Per scenario: `model` against the best heuristic and the best of Markov/Shapley of that
    scenario (highest mean score) and against holdout, paired over seeds."""
    out = []
    for name in scenarios:
        here = scores[scores["scenario"] == name].pivot(index="seed", columns="model", values=column)
        row: Dict[str, object] = {"scenario": name, "model": here[model].mean(), "seeds": len(here)}
        for label, candidates in (("heuristic", HEURISTICS), ("markov", MARKOV_SHAPLEY), ("holdout", ["holdout"])):
            best = max(candidates, key=lambda m: here[m].mean())
            difference = here[model] - here[best]
            row[label] = best
            row[label + "_score"] = here[best].mean()
            row[label + "_diff"] = interval(difference)
            row[label + "_wins"] = int((difference > 0).sum())
        out.append(row)
    return out


def table(scores: pd.DataFrame, column: str, scenarios: List[str]) -> str:
    """Mean score per model (rows) and scenario (columns), ± the half-width of a 95% interval over seeds."""
    rows = ["| model | " + " | ".join(scenarios) + " | mean |", "|---" * (len(scenarios) + 2) + "|"]
    extra = ["holdout", "holdout_calibrated", *CALIBRATED_PRIORS, "platform_reported", "drawn_cause"]
    order = [m for m in MODELS + extra if m in set(scores["model"])]
    for model in order:
        cells = []
        means = []
        for name in scenarios:
            values = scores[(scores["model"] == model) & (scores["scenario"] == name)][column]
            mean = values.mean()
            half = 1.96 * values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
            means.append(mean)
            cells.append(f"{mean:.3f} ± {half:.3f}")
        rows.append(f"| {model} | " + " | ".join(cells) + f" | {sum(means) / len(means):.3f} |")
    return "\n".join(rows)


def parse_seeds(text: str) -> List[int]:
    """"1,2,3" or "1-30" (or a mix: "1-10,20")."""
    seeds: List[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        try:
            seeds += list(range(int(low), int(high) + 1)) if high else [int(low)]
        except ValueError:
            raise SystemExit(f"attribution_accuracy.py: --seeds: expected integers or ranges A-B, found {part!r}")
    return seeds


def print_paired(scores: pd.DataFrame, runs: pd.DataFrame, scope: str, scenarios: List[str],
                 model: str = "holdout_calibrated") -> None:
    """The paired comparison of `model` per scenario (Shapley truth), with the holdout's noise and
    the best heuristic's error beside it."""
    print(f"\n{model} ({scope}) against the best heuristic and the best of Markov/Shapley of each")
    print("scenario and against holdout, paired over seeds (Shapley truth): mean difference [95% t interval],")
    print("seeds won; verdict: 'beats' when both intervals are above 0, 'behind' when one is below 0, else")
    print("'level'; the holdout's SE per channel over its total, and the best heuristic's error (1 - accuracy):\n")
    print(f"| scenario | {model} | best heuristic | difference [95% CI] | won | best Markov/Shapley | "
          "difference [95% CI] | won | verdict | against holdout [95% CI] | holdout SE / total | "
          "best heuristic's error |")
    print("|---" * 12 + "|")
    se_share = runs.groupby("scenario", sort=False)["holdout_se_share"].mean()
    for row in paired(scores, model, "conversions_vs_shapley", scenarios):
        cells = [row["scenario"], f"{row['model']:.3f}"]
        for label in ("heuristic", "markov"):
            mean, low, high = row[label + "_diff"]
            cells += [f"{row[label]} {row[label + '_score']:.3f}", f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]",
                      f"{row[label + '_wins']}/{row['seeds']}"]
        cells.append(verdict(row["heuristic_diff"], row["markov_diff"]))
        mean, low, high = row["holdout_diff"]
        cells += [f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]", f"{se_share[row['scenario']]:.3f}",
                  f"{1 - row['heuristic_score']:.3f}"]
        print("| " + " | ".join(cells) + " |")


def print_priors(scores: pd.DataFrame, scenarios: List[str]) -> None:
    """holdout_calibrated (its default prior) against each single-prior variant, paired over seeds."""
    variants = [label for label in CALIBRATED_PRIORS if label in set(scores["model"])]
    if not variants:
        return
    print(f"\nholdout_calibrated (calibration_prior {default_prior()}) against its variants, paired over seeds")
    print("(per channel, Shapley truth): mean difference [95% t interval]:\n")
    print("| scenario | " + " | ".join(f"against {label}" for label in variants) + " |")
    print("|---" * (len(variants) + 1) + "|")
    for name in scenarios + ["mean"]:
        cells = [name]
        for label in variants:
            if name == "mean":
                pivot = scores.pivot_table(index="seed", columns=["scenario", "model"],
                                           values="conversions_vs_shapley")
                difference = sum(pivot[(s, "holdout_calibrated")] - pivot[(s, label)] for s in scenarios) / len(
                    scenarios)
            else:
                here = scores[scores["scenario"] == name].pivot(index="seed", columns="model",
                                                                values="conversions_vs_shapley")
                difference = here["holdout_calibrated"] - here[label]
            mean, low, high = interval(difference)
            cells.append(f"{mean:+.3f} [{low:+.3f}, {high:+.3f}]")
        print("| " + " | ".join(cells) + " |")
    # A variant that scores exactly as the default on a run made the same choice there (for
    # best_fit: the holdout's evidence picked the default prior).
    pivot = scores.pivot_table(index=["scenario", "seed"], columns="model", values="conversions_vs_shapley")
    same = ", ".join(f"{label} {int((pivot[label] == pivot['holdout_calibrated']).sum())}" for label in variants)
    print(f"\nRuns (of {len(pivot)}) on which a variant scores exactly as holdout_calibrated: {same}.")


def render(scores: pd.DataFrame, runs: pd.DataFrame, seeds_text: str, scopes: List[str], holdout: bool,
           note: str) -> None:
    """Prints every table of the report from the scores and the per-run data."""
    scenarios = [s for s in SCENARIOS if s in set(scores["scenario"])]
    seeds = sorted(set(scores["seed"]))
    print(f"{note}; seeds {seeds_text} ({len(seeds)} seeds), {len(runs)} runs.\n")
    for scope in scopes:
        here = scores[scores["scope"] == scope]
        print(f"Scores per {scope} on conversions, mean ± 95% half-width over the seeds.\n")
        print("Against the Shapley truth:\n")
        print(table(here, "conversions_vs_shapley", scenarios))
        print("\nAgainst the removal truth:\n")
        print(table(here, "conversions_vs_removal", scenarios))
        if holdout:
            print_paired(here, runs, scope, scenarios)
            if scope == "channel":
                # The fully data-driven variant too (no prior chosen in advance), when it is not the default.
                if "holdout_calibrated_best_fit" in set(here["model"]):
                    print_paired(here, runs, scope, scenarios, "holdout_calibrated_best_fit")
                print_priors(here, scenarios)
        print()
    summary = runs.groupby("scenario", sort=False).mean(numeric_only=True)
    print("Per scenario (means over seeds): conversions, incremental ones, the sum of the channels' removal")
    print("effects over the incremental total, and the dashboards' claims over the incremental total:\n")
    print("| scenario | conversions | incremental | removal sum / incremental | reported / incremental | "
          "seconds per run |")
    print("|---|---|---|---|---|---|")
    for name, row in summary.iterrows():
        print(
            f"| {name} | {row['conversions']:.0f} | {row['incremental']:.0f} | "
            f"{row['removal_sum_channel'] / row['incremental']:.3f} | "
            f"{row['reported_sum_channel'] / row['incremental']:.2f} | {row['seconds']:.1f} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated seeds or a range A-B (default 1,2,3)")
    parser.add_argument("--scope", default="both", choices=["channel", "campaign", "both"])
    parser.add_argument("--holdout", type=float, default=0.0,
                        help="share of users every channel holds out (0 to 0.5; scores the holdout models too)")
    parser.add_argument("--workers", type=int, default=1, help="runs in parallel (processes; default 1)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help="comma-separated scenario names (default: all of " + ", ".join(SCENARIOS) + ")")
    parser.add_argument("--save-scores", type=Path, help="write every score and the per-run data to this CSV file")
    parser.add_argument("--load-scores", type=Path, help="print the tables from a --save-scores file, restricted "
                                                         "to --seeds, instead of running")
    args = parser.parse_args()
    if not 0 <= args.holdout <= 0.5:
        parser.error(f"--holdout: expected a share in [0, 0.5], found {args.holdout}")
    if args.workers < 1:
        parser.error(f"--workers: expected an integer >= 1, found {args.workers}")
    seeds = parse_seeds(args.seeds)
    chosen = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in SCENARIOS]
    if unknown or not chosen:
        parser.error(f"--scenarios: expected names from {', '.join(SCENARIOS)}, found {args.scenarios!r}")
    scopes = ["channel", "campaign"] if args.scope == "both" else [args.scope]
    if args.load_scores:
        scores, runs, holdout, note = load(args.load_scores, seeds)
    else:
        jobs = [(name, seed, args.holdout) for name in SCENARIOS if name in chosen for seed in seeds]
        started = time.perf_counter()
        if args.workers == 1:
            done = [one_run(job) for job in jobs]
        else:
            with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
                done = pool.map(one_run, jobs, chunksize=1)
        elapsed = time.perf_counter() - started
        scores = pd.concat([frame for frame, _ in done], ignore_index=True)
        runs = pd.DataFrame([run for _, run in done])
        holdout = args.holdout > 0
        note = (f"{len(jobs)} runs in {elapsed:.0f} s with {args.workers} worker(s), holdout {args.holdout}, "
                f"adsim {adsim.__version__}")
        print(note, file=sys.stderr)
        if args.save_scores:
            save(args.save_scores, scores, runs, args.holdout, note)
    render(scores, runs, args.seeds, scopes, holdout, note)
    return 0


def save(path: Path, scores: pd.DataFrame, runs: pd.DataFrame, holdout: float, note: str) -> None:
    """Scores (kind 'score') and per-run data (kind 'run') in one CSV file, the note in a comment line;
    written to a temporary name and renamed, so a failed write leaves no file that looks whole."""
    temporary = path.with_name(path.name + ".partial")
    with open(temporary, "w", encoding="utf-8", newline="") as handle:
        handle.write(f"# {note}; holdout={holdout}\n")
        pd.concat([scores.assign(kind="score"), runs.assign(kind="run")], ignore_index=True).to_csv(
            handle, index=False)
    temporary.replace(path)


def load(path: Path, seeds: List[int]) -> Tuple[pd.DataFrame, pd.DataFrame, bool, str]:
    """Reads a --save-scores file, keeping the given seeds; exits with a message naming the file
    when it is not one or lacks a seed."""
    try:
        with open(path, encoding="utf-8") as handle:
            header = handle.readline()
            frame = pd.read_csv(handle)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise SystemExit(f"attribution_accuracy.py: {path}: cannot read the scores: {error}")
    if not header.startswith("# ") or "; holdout=" not in header or not {"kind", "seed", "scenario"} <= set(frame):
        raise SystemExit(f"attribution_accuracy.py: {path}: expected a file written by --save-scores "
                         "(a '# ...; holdout=...' line, then kind, seed and scenario columns)")
    note, _, share = header[2:].strip().rpartition("; holdout=")
    missing = sorted(set(seeds) - set(frame["seed"]))
    if missing:
        raise SystemExit(f"attribution_accuracy.py: {path}: expected seeds {missing} (from --seeds), found none")
    frame = frame[frame["seed"].isin(seeds)]
    scores = frame[frame["kind"] == "score"].dropna(axis=1, how="all").drop(columns="kind")
    runs = frame[frame["kind"] == "run"].drop(columns="kind")
    return scores, runs, float(share) > 0, f"from {path.name} ({note})"


if __name__ == "__main__":
    sys.exit(main())
