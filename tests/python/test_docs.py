"""Every runnable code block of README.md and docs/ is run or validated, so the docs cannot drift.

Owns: extracting the fenced blocks of README.md and docs/**/*.md, deciding
how each is checked, and checking it with the real build (`adsim validate`,
the installed `adsim` package); the examples in docs/examples/; the rule
that docs and bench scripts name no machine path. docs/testing.md, "The
docs test", describes the markers.

How a block is checked, by its fence language:

- yaml / json: a scenario (it has `duration`) is validated as it is; a
  fragment (only top-level, campaign, segment or channel fields) is merged
  into a base scenario (the embedded default unless a marker names another)
  and validated. Lists of named entries merge by `name`.
- python: the page's python blocks run in order in one interpreter (a
  shared namespace, as a reader would type them), in a scratch directory.
- sh / bash / console / shell: each command runs (in a scratch directory that
  sees the clone's files) if every command is cheap (`adsim validate`,
  `adsim list`, `adsim summary`, `--help`, scripts/check_layout.py);
  otherwise the block needs a marker.
- no language, text, cpp, ...: prose (formulas, diagrams, outputs, code
  excerpts), not run, counted as such, unless a marker compares it with a
  command's output.

Markers are HTML comments on the lines just before a block (several may follow
one another):

    <!-- doc-test: skip REASON -->          not checked; the reason is required
    <!-- doc-test: run -->                  run this sh block although not every command is cheap
    <!-- doc-test: fragment BASE [at PATH] -->  merge into BASE (a file of the clone, or `default`)
                                            at PATH (`campaigns[0]`, `segments[1]`, ...)
    <!-- doc-test: invalid [TEXT] -->       this scenario must fail validation (with TEXT in the message)
    <!-- doc-test: files NAME=PATH ... -->  copy PATH (of the clone) to NAME in the scratch directory first
    <!-- doc-test: before COMMAND -->       run COMMAND in the scratch directory first (python, sh blocks)
    <!-- doc-test: output-of [cwd=DIR] COMMAND -->          this block is exactly COMMAND's output
    <!-- doc-test: output-excerpt-of [cwd=DIR] COMMAND -->  each line of this block appears in
                                            COMMAND's output, in order (`...` lines skip any)

`adsim` in a command is the build's CLI (ADSIM_BUILD_DIR, default build/).
"""

from __future__ import annotations

import copy
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("ADSIM_BUILD_DIR", REPO / "build")).resolve()
ADSIM = BUILD / "adsim"
DEFAULT_BASE = REPO / "core" / "scenarios" / "default.yaml"

SCENARIO_LANGUAGES = {"yaml", "yml", "json"}
PYTHON_LANGUAGES = {"python", "py", "python3"}
SHELL_LANGUAGES = {"sh", "bash", "shell", "console"}
# Blocks in these languages are prose: never run, counted, and may be compared with an output.
PROSE_LANGUAGES = {"", "text", "txt", "plain", "output", "cpp", "c++", "c", "cc", "h", "math", "diff", "ini",
                   "toml", "mermaid", "markdown", "md", "cmake"}

# Commands cheap enough to run from any block without a marker.
CHEAP_COMMAND = re.compile(
    r"^(?:\S*/)?adsim\s+(?:validate|list|summary|--help|--version|\S+\s+--help)\b"
    r"|^(?:\S*/)?check_layout\.py\b")

TOP_LEVEL_KEYS = {"name", "description", "seed", "start", "duration", "bucket", "control_cycle", "channels",
                  "segments", "campaigns", "shocks", "controllers", "monitors", "alert_grace", "guardrails",
                  "recording", "experiments", "oracle", "account_budget", "market", "python", "journeys",
                  "funnel", "users", "audiences"}
CAMPAIGN_KEYS = {"name", "channels", "segments", "creatives", "bid", "budget", "goal", "bidder", "controllers", "audiences",
                 "guardrails"}
SEGMENT_KEYS = {"name", "users", "propensity_sigma", "share", "ctr", "cvr", "creatives", "fatigue", "features",
                "conversion_value", "conversion_delay", "competition"}
CHANNEL_KEYS = {"name", "auction", "floor", "billing", "ctr_factor", "quality_half_life", "traffic",
                "competition"}

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<lang>[^\s`]*)[^`]*$")
MARKER = re.compile(r"^\s*<!--\s*doc-test:\s*(?P<body>.*?)\s*-->\s*$")


@dataclass
class Block:
    path: Path
    line: int  # line of the opening fence, from 1
    language: str
    text: str
    markers: list = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{shown(self.path)}:{self.line}"

    def marker(self, keyword: str):
        for m in self.markers:
            word, _, rest = m.partition(" ")
            if word.rstrip(":") == keyword:
                return rest.strip()
        return None


def shown(path: Path) -> str:
    """A path as the clone names it (absolute if outside the clone)."""
    return str(path.relative_to(REPO)) if REPO in path.resolve().parents else str(path)


def doc_pages() -> list[Path]:
    pages = [REPO / "README.md"] + sorted((REPO / "docs").rglob("*.md"))
    return [p for p in pages if p.is_file()]


def extract_blocks(path: Path) -> list[Block]:
    """Fenced blocks with the doc-test markers on the lines just before them."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, indent = m.group("fence"), len(m.group("indent"))
        start, body = i, []
        i += 1
        while i < len(lines) and not re.match(r"^[ \t]*" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$",
                                              lines[i]):
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i])
            i += 1
        i += 1  # the closing fence
        markers, j = [], start - 1
        while j >= 0 and (MARKER.match(lines[j]) or (lines[j].strip() == "" and j > 0 and MARKER.match(lines[j - 1]))):
            if MARKER.match(lines[j]):
                markers.insert(0, MARKER.match(lines[j]).group("body"))
            j -= 1
        blocks.append(Block(path, start + 1, m.group("lang").lower(), "\n".join(body) + "\n", markers))
    return blocks


# ---------------------------------------------------------------- scenarios


def merge(base, fragment):
    """Dicts merge key by key; lists of named mappings merge by name; other values replace."""
    if isinstance(base, dict) and isinstance(fragment, dict):
        out = dict(base)
        for k, v in fragment.items():
            out[k] = merge(base[k], v) if k in base else v
        return out
    if (isinstance(base, list) and isinstance(fragment, list) and fragment
            and all(isinstance(x, dict) and "name" in x for x in fragment)
            and all(isinstance(x, dict) for x in base)):
        out = list(base)
        index = {x.get("name"): n for n, x in enumerate(out)}
        for x in fragment:
            if x["name"] in index:
                out[index[x["name"]]] = merge(out[index[x["name"]]], x)
            else:
                out.append(x)
        return out
    return copy.deepcopy(fragment)


def place(fragment, at: str):
    """The fragment wrapped so that it lands at `at` (`campaigns[0]`, `segments[1]`, `.`)."""
    if at in ("", "."):
        return fragment
    m = re.fullmatch(r"(\w+)\[(\d+)\]", at)
    if not m:
        raise ValueError(f"fragment path {at!r}: expected '.' or FIELD[INDEX]")
    return {"__at__": (m.group(1), int(m.group(2)), fragment)}


def apply(base: dict, fragment) -> dict:
    if isinstance(fragment, dict) and "__at__" in fragment:
        key, index, inner = fragment["__at__"]
        out = copy.deepcopy(base)
        out[key][index] = merge(out[key][index], inner)
        return out
    return merge(base, fragment)


def load_base(name: str) -> dict:
    path = DEFAULT_BASE if name in ("", "default") else REPO / name
    return yaml.safe_load(path.read_text())


def scenario_for(block: Block):
    """(scenario dict, how) for a yaml/json block, or raise with what to mark."""
    data = yaml.safe_load(block.text)
    spec = block.marker("fragment")
    if spec is not None:
        parts = spec.split()
        base = parts[0] if parts else "default"
        at = parts[2] if len(parts) >= 3 and parts[1] == "at" else "."
        return apply(load_base(base), place(data, at)), f"fragment of {base} at {at}"
    if not isinstance(data, dict):
        raise AssertionError("not a mapping: mark it <!-- doc-test: skip REASON --> or fragment")
    if "duration" in data:
        return data, "scenario"
    keys = set(data)
    if keys <= TOP_LEVEL_KEYS:
        return merge(load_base("default"), data), "fragment of the default scenario"
    for where, allowed in (("campaigns", CAMPAIGN_KEYS), ("segments", SEGMENT_KEYS), ("channels", CHANNEL_KEYS)):
        if keys <= allowed:
            base = load_base("default")
            base[where][0] = merge(base[where][0], data)
            return base, f"fragment of the default scenario at {where}[0]"
    raise AssertionError(f"keys {sorted(keys - TOP_LEVEL_KEYS)} fit no part of a scenario: add "
                         "<!-- doc-test: fragment BASE at PATH --> or <!-- doc-test: skip REASON -->")


def validate(scenario: dict, workdir: Path) -> subprocess.CompletedProcess:
    path = workdir / "block.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    return subprocess.run([str(ADSIM), "validate", str(path)], capture_output=True, text=True, timeout=120)


def check_scenario(block: Block, workdir: Path) -> str:
    scenario, how = scenario_for(block)
    result = validate(scenario, workdir)
    invalid = block.marker("invalid")
    output = result.stdout + result.stderr
    if invalid is not None:
        assert result.returncode == 2, f"expected validation to fail, it passed: {output.strip()}"
        assert invalid in output, f"expected {invalid!r} in the error, found: {output.strip()}"
        return f"yaml ({how}, invalid as shown)"
    assert result.returncode == 0, f"adsim validate ({how}) failed:\n{output.strip()}"
    return f"yaml ({how})"


# ---------------------------------------------------------------- commands


def scratch_dir(tmp: Path) -> Path:
    """A directory that sees the clone's files (symlinks) but keeps what commands write."""
    work = tmp / "clone"
    work.mkdir(exist_ok=True)
    for entry in REPO.iterdir():
        if entry.name != ".git" and not (work / entry.name).exists():
            (work / entry.name).symlink_to(entry)
    return work


def command_env() -> dict:
    env = dict(os.environ)
    env["PATH"] = f"{BUILD}{os.pathsep}{env.get('PATH', '')}"
    return env


def run_command(command: str, cwd: Path) -> subprocess.CompletedProcess:
    command = re.sub(r"(^|\s)(?:\./)?build/adsim\b", lambda m: m.group(1) + shlex.quote(str(ADSIM)), command)
    return subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=command_env())


def shell_commands(block: Block) -> list[str]:
    """The commands of a sh/console block: `$ ` lines in a console block, every line otherwise."""
    commands = []
    for line in block.text.splitlines():
        if block.language == "console":
            if not line.startswith("$ "):
                continue
            line = line[2:]
        line = re.sub(r"\s+#.*$", "", line).strip()
        if line and not line.startswith("#"):
            commands.append(line)
    return commands


def copy_files(block: Block, workdir: Path) -> None:
    spec = block.marker("files")
    for item in (spec or "").split():
        name, _, source = item.partition("=")
        target = workdir / name
        if target.is_symlink():
            target.unlink()
        shutil.copy(REPO / source, target)


def check_shell(block: Block, workdir: Path) -> str:
    commands = shell_commands(block)
    if not commands:
        return "sh (no command)"
    if block.marker("run") is None:
        costly = [c for c in commands if not CHEAP_COMMAND.search(c)]
        assert not costly, (f"commands not cheap enough to run unmarked: {costly}; add <!-- doc-test: run --> "
                            "or <!-- doc-test: skip REASON -->")
    copy_files(block, workdir)
    before = block.marker("before")
    for c in ([before] if before else []) + commands:
        result = run_command(c, workdir)
        assert result.returncode == 0, f"`{c}` exited {result.returncode}:\n{(result.stdout + result.stderr)[-2000:]}"
    return f"sh ({len(commands)} command{'s' if len(commands) > 1 else ''})"


def check_output(block: Block, workdir: Path, keyword: str) -> str:
    spec = block.marker(keyword)
    cwd = workdir
    m = re.match(r"cwd=(\S+)\s+(.*)", spec)
    if m:
        cwd, spec = workdir / m.group(1), m.group(2)
    result = run_command(spec, cwd)
    actual = [line.rstrip() for line in (result.stdout + result.stderr).strip("\n").splitlines()]
    shown = [line.rstrip() for line in block.text.strip("\n").splitlines()]
    if keyword == "output-of":
        assert actual == shown, ("the block differs from the output of `" + spec + "`:\n"
                                 + "\n".join(actual))
        return "output (exact)"
    position = 0
    for line in shown:
        if line.strip() == "...":
            continue
        while position < len(actual) and actual[position] != line:
            position += 1
        assert position < len(actual), (f"line {line!r} is not in the output of `{spec}` (in order):\n"
                                         + "\n".join(actual))
        position += 1
    return "output (excerpt)"


# ---------------------------------------------------------------- python

PYTHON_RUNNER = r"""
import json, os, shutil, sys, traceback
blocks = json.load(open(sys.argv[1]))
namespace = {"__name__": "__main__"}
for block in blocks:
    for name, source in block["files"]:
        if os.path.islink(name):
            os.unlink(name)
        shutil.copy(source, name)
    if block["before"]:
        import subprocess
        if subprocess.run(["bash", "-c", block["before"]]).returncode != 0:
            print("FAILED " + block["where"] + ": the before command " + block["before"], file=sys.stderr)
            sys.exit(1)
    try:
        exec(compile(block["code"], block["where"], "exec"), namespace)
    except BaseException:
        print("FAILED " + block["where"], file=sys.stderr)
        traceback.print_exc()
        sys.exit(1)
    print("OK " + block["where"], file=sys.stderr)
"""


def run_python_blocks(blocks: list[Block], workdir: Path) -> None:
    import json

    payload = []
    for b in blocks:
        files = []
        for item in (b.marker("files") or "").split():
            name, _, source = item.partition("=")
            files.append((name, str(REPO / source)))
        payload.append({"where": b.where, "code": b.text, "files": files, "before": b.marker("before")})
    (workdir / "blocks.json").write_text(json.dumps(payload))
    (workdir / "runner.py").write_text(PYTHON_RUNNER)
    result = subprocess.run([sys.executable, "runner.py", "blocks.json"], cwd=workdir, capture_output=True,
                            text=True, timeout=900, env=command_env())
    assert result.returncode == 0, result.stderr[-4000:]


# ---------------------------------------------------------------- the tests


def classify(block: Block) -> str:
    """skip, output-of, output-excerpt-of, scenario, python, shell or prose; raise if unknown."""
    if block.marker("skip") is not None:
        assert block.marker("skip"), f"{block.where}: <!-- doc-test: skip --> needs a reason"
        return "skip"
    for keyword in ("output-of", "output-excerpt-of"):
        if block.marker(keyword) is not None:
            return keyword
    if block.language in SCENARIO_LANGUAGES:
        return "scenario"
    if block.language in PYTHON_LANGUAGES:
        return "python"
    if block.language in SHELL_LANGUAGES:
        return "shell"
    if block.language in PROSE_LANGUAGES:
        return "prose"
    raise AssertionError(f"{block.where}: fence language {block.language!r} is neither checked nor prose: "
                         "add <!-- doc-test: skip REASON --> or teach tests/python/test_docs.py")


COUNTS: dict = {}


def check_page(path: Path, tmp: Path) -> tuple[list[str], dict]:
    failures, counts = [], {}
    workdir = scratch_dir(tmp)
    python_blocks = []
    for block in extract_blocks(path):
        try:
            kind = classify(block)
            if kind == "skip":
                what = f"skipped: {block.marker('skip')}"
            elif kind in ("output-of", "output-excerpt-of"):
                what = check_output(block, workdir, kind)
            elif kind == "scenario":
                what = check_scenario(block, tmp)
            elif kind == "shell":
                what = check_shell(block, workdir)
            elif kind == "python":
                python_blocks.append(block)
                what = "python"
            else:
                what = "prose"
            counts[what.split(" ")[0].rstrip(":")] = counts.get(what.split(" ")[0].rstrip(":"), 0) + 1
        except AssertionError as e:
            failures.append(f"{block.where}: {e}")
        except (yaml.YAMLError, ValueError, OSError, subprocess.SubprocessError) as e:
            failures.append(f"{block.where}: {type(e).__name__}: {e}")
    if python_blocks:
        try:
            run_python_blocks(python_blocks, workdir)
        except AssertionError as e:
            failures.append(f"{shown(path)} (python blocks run in order): {e}")
    return failures, counts


@pytest.fixture(scope="module", autouse=True)
def _needs_build():
    if not ADSIM.is_file():
        pytest.fail(f"{ADSIM} not found: build first (scripts/setup.sh) or set ADSIM_BUILD_DIR")


@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_every_block_of_the_page_is_checked_or_marked(page: Path, tmp_path: Path):
    failures, counts = check_page(page, tmp_path)
    COUNTS[str(page.relative_to(REPO))] = counts
    assert not failures, f"{len(failures)} block(s) of {page.relative_to(REPO)} failed:\n" + "\n\n".join(failures)


def test_markers_are_understood():
    """A misspelt marker would silently not apply: every marker keyword must be known."""
    known = {"skip", "run", "fragment", "invalid", "files", "before", "output-of", "output-excerpt-of"}
    bad = []
    for page in doc_pages():
        for block in extract_blocks(page):
            for m in block.markers:
                word = m.split(" ")[0].rstrip(":")
                if word not in known:
                    bad.append(f"{block.where}: unknown marker {word!r} (known: {sorted(known)})")
    for page in doc_pages():
        for number, line in enumerate(page.read_text().splitlines(), 1):
            if line.lstrip().startswith("<!--") and "doc-test" in line and not MARKER.match(line):
                bad.append(f"{page.relative_to(REPO)}:{number}: malformed marker {line.strip()!r}")
    assert not bad, "\n".join(bad)


def test_extractor_finds_blocks_and_markers(tmp_path: Path):
    """The extractor itself: languages, indented fences, markers with a blank line, and a fence of 4."""
    page = tmp_path / "page.md"
    page.write_text("text\n\n<!-- doc-test: skip no reason needed here -->\n\n```yaml\na: 1\n```\n\n"
                    "- item\n\n  ```python\n  x = 1\n  ```\n\n````\n```\ninner\n```\n````\n")
    blocks = extract_blocks(page)
    assert [(b.language, b.line) for b in blocks] == [("yaml", 5), ("python", 11), ("", 15)]
    assert blocks[0].marker("skip") == "no reason needed here"
    assert blocks[1].text == "x = 1\n" and blocks[1].markers == []
    assert blocks[2].text == "```\ninner\n```\n"


def test_fragment_merge_by_name():
    base = {"campaigns": [{"name": "a", "bid": 1}, {"name": "b", "bid": 2}], "seed": 1}
    out = merge(base, {"campaigns": [{"name": "b", "bid": 3}, {"name": "c", "bid": 4}]})
    assert out["campaigns"] == [{"name": "a", "bid": 1}, {"name": "b", "bid": 3}, {"name": "c", "bid": 4}]
    assert base["campaigns"][1]["bid"] == 2  # the base is not modified


def test_a_wrong_block_fails(tmp_path: Path):
    """The checker is not a rubber stamp: a bad scenario, a failing command, a wrong output all fail."""
    page = tmp_path / "bad.md"
    page.write_text("```yaml\nduration: 2 days\nchannels: []\n```\n\n"
                    "```sh\nadsim validate no/such/file.yaml\n```\n\n"
                    "<!-- doc-test: output-of adsim validate docs/examples/minimal.yaml -->\n```\nnot this\n```\n\n"
                    "```sh\nrm -rf build\n```\n\n```python\nraise SystemExit(3)\n```\n\n```fortran\nx\n```\n")
    failures, _ = check_page(page, tmp_path)
    assert len(failures) == 6, "\n".join(failures)
    assert "adsim validate" in failures[0] and "exited" in failures[1] and "differs" in failures[2]
    assert "not cheap" in failures[3] and "fortran" in failures[4] and "python blocks" in failures[5]


@pytest.mark.parametrize("example", sorted(p for p in (REPO / "docs" / "examples").iterdir() if p.is_file()),
                         ids=lambda p: p.name)
def test_example_files(example: Path, tmp_path: Path):
    """docs/examples/: scenarios validate (errors*.yaml fail with errors), Python examples run."""
    if example.suffix in (".yaml", ".yml", ".json"):
        result = subprocess.run([str(ADSIM), "validate", str(example)], capture_output=True, text=True, timeout=120)
        if example.name.startswith("errors"):
            assert result.returncode == 2 and "error" in result.stderr, result.stderr
        else:
            assert result.returncode == 0, result.stdout + result.stderr
    elif example.suffix == ".py":
        result = subprocess.run([sys.executable, str(example)], cwd=tmp_path, capture_output=True, text=True,
                                timeout=600, env=command_env())
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    else:
        pytest.fail(f"{example}: no check for {example.suffix} files in tests/python/test_docs.py")


MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|home|Users|root)/[\w.-]+|\.\./shared\b")


def test_no_machine_paths():
    """Commands in docs and scripts work from a clone anywhere: no path into one machine's checkout."""
    files = [REPO / "README.md"] + sorted((REPO / "docs").rglob("*.md"))
    for folder, pattern in (("bench", "*.py"), ("bench", "*.sh"), ("scripts", "*"), ("notebooks", "*.ipynb"),
                            (".ci", "*")):
        files += sorted(p for p in (REPO / folder).glob(pattern) if p.is_file())
    found = []
    for f in files:
        for number, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
            if MACHINE_PATH.search(line):
                found.append(f"{f.relative_to(REPO)}:{number}: {line.strip()}")
    assert not found, "machine paths (use paths relative to the clone):\n" + "\n".join(found)


def test_counts_were_reported():
    """Runs last in the file: prints what was checked, per page (pytest -s or -rA shows it)."""
    if not COUNTS:
        pytest.skip("the page tests did not run in this session")
    total: dict = {}
    for page, counts in sorted(COUNTS.items()):
        print(f"{page}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
    print("total: " + ", ".join(f"{k} {v}" for k, v in sorted(total.items())))
    assert total.get("yaml", 0) + total.get("python", 0) + total.get("sh", 0) > 0


def test_strategy_comparison_page_is_what_its_generator_writes(tmp_path: Path):
    """docs/strategy-comparison.md is generated (bench/strategy_comparison.py): a hand edit, or a
    generator change without re-rendering, fails here. The measurements are saved next to the script."""
    saved = REPO / "bench" / "results" / "strategy_comparison.json"
    page = REPO / "docs" / "strategy-comparison.md"
    assert saved.is_file(), (f"{saved.relative_to(REPO)} missing: run .venv/bin/python bench/strategy_comparison.py "
                             "--seeds 30 --doc docs/strategy-comparison.md --save bench/results/strategy_comparison.json")
    rendered = tmp_path / "page.md"
    result = subprocess.run([sys.executable, str(REPO / "bench" / "strategy_comparison.py"), "--render", str(saved),
                             "--doc", str(rendered)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert rendered.read_text() == page.read_text(), (
        "docs/strategy-comparison.md differs from what bench/strategy_comparison.py renders from "
        f"{saved.relative_to(REPO)}: edit the script and re-render (--render {saved.relative_to(REPO)} --doc {page.relative_to(REPO)})")


def test_top_level_keys_are_the_ones_the_scenario_reader_accepts():
    """A doc fragment is matched against TOP_LEVEL_KEYS: they must be the keys core/scenario.cc's
    reader allows at the top level, or a fragment using a new key is refused (or a wrong one passes)."""
    source = (REPO / "core" / "scenario.cc").read_text()
    match = re.search(r'r\.Map\(root,\s*"",\s*\{([^}]*)\}\)', source)
    assert match, "core/scenario.cc: the top-level r.Map(root, \"\", {...}) call was not found"
    accepted = set(re.findall(r'"([a-z_]+)"', match.group(1)))
    assert accepted == TOP_LEVEL_KEYS, (f"only in core/scenario.cc: {sorted(accepted - TOP_LEVEL_KEYS)}; "
                                        f"only in TOP_LEVEL_KEYS: {sorted(TOP_LEVEL_KEYS - accepted)}")
