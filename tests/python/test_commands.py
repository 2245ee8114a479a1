"""The Python subcommands: `python -m adsim NAME` and the C++ `adsim NAME` that hands them over."""

from __future__ import annotations

import os
import subprocess
import sys


def run(command, **env):
    return subprocess.run(
        command, capture_output=True, text=True, env={**os.environ, **env}, timeout=120
    )


def test_python_m_adsim_lists_its_commands():
    done = run([sys.executable, "-m", "adsim", "--help"])
    assert done.returncode == 0, done.stderr
    assert "COMMAND" in done.stdout


def test_an_unknown_command_is_bad_usage():
    done = run([sys.executable, "-m", "adsim", "no-such-command"])
    assert done.returncode == 2
    assert "invalid choice" in done.stderr


def test_the_cli_names_its_python_commands_in_help(adsim_cli):
    done = run([adsim_cli, "--help"])
    assert done.returncode == 0
    assert "implemented in Python" in done.stdout


def python_commands(adsim_cli):
    footer = run([adsim_cli, "--help"]).stdout.split("implemented in Python")[1]
    return [name.strip() for name in footer.split(":", 1)[1].split(",") if name.strip()]


def test_the_cli_hands_a_python_command_over_with_its_arguments(adsim_cli):
    for name in python_commands(adsim_cli):
        for arguments in (["--help"], ["--no-such-option"]):
            via_cli = run([adsim_cli, name, *arguments], ADSIM_PYTHON=sys.executable)
            via_python = run([sys.executable, "-m", "adsim", name, *arguments])
            assert (via_cli.returncode, via_cli.stdout, via_cli.stderr) == (
                via_python.returncode,
                via_python.stdout,
                via_python.stderr,
            ), name


def test_a_missing_interpreter_is_a_clear_error(adsim_cli, tmp_path):
    missing = str(tmp_path / "no-python")
    done = run([adsim_cli, "catalog", "list"], ADSIM_PYTHON=missing)
    assert done.returncode == 3
    assert missing in done.stderr and "ADSIM_PYTHON" in done.stderr
