"""adsim.run(progress=...): the tqdm bar of progress=True goes to stderr only,
reaches 100% when the run completes, stays where it stopped when the run
fails, and nothing is written when progress is off."""

from __future__ import annotations

import re

import pytest

import adsim


def _percentages(err: str) -> list:
    # tqdm redraws the line with carriage returns: every drawn state, in order.
    return [int(p) for p in re.findall(r"simulated time:\s+(\d+)%\|", err)]


def test_progress_true_draws_a_tqdm_bar_on_stderr_that_completes(small, capsys):
    small["duration"] = "6h"
    adsim.run(small, progress=True)
    captured = capsys.readouterr()
    assert captured.out == ""
    drawn = _percentages(captured.err)
    assert drawn, f"no bar drawn on stderr: {captured.err!r}"
    # Drawn states never go back, and the last one is the whole run.
    assert drawn == sorted(drawn) and drawn[-1] == 100
    assert captured.err.endswith("\n")  # closed: the next output starts on a new line


@pytest.mark.parametrize("progress", [False, None])
def test_no_output_when_progress_is_off(small, capsys, progress):
    small["duration"] = "6h"
    adsim.run(small, progress=progress)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_bar_stops_where_a_failed_run_stopped(small, capsys):
    class Stop(Exception):
        pass

    @adsim.register_controller("test_fails_at_noon", campaign_scoped=False)
    class FailsAtNoon(adsim.Controller):
        """Raises half-way through a one-day run (test)."""

        def on_cycle(self, snapshot):
            if snapshot.time >= 12 * 3_600_000_000:
                raise Stop("noon")

    small["duration"] = "1d"
    small["controllers"] = [{"type": "test_fails_at_noon"}]
    with pytest.raises(adsim.Error, match="raised Stop: noon"):
        adsim.run(small, progress=True)
    drawn = _percentages(capsys.readouterr().err)
    # Progress is reported before each cycle; the failing cycle is the one at
    # 12h of 24h, so the bar stopped at 50% at most, not at 100%.
    assert drawn and max(drawn) <= 50


def test_progress_rejects_other_values(small):
    with pytest.raises(TypeError, match="progress must be a bool or a callable"):
        adsim.run(small, progress="yes")
