"""Human oversight in the loop: a Python reviewer of held actions.

``adsim.run(scenario, reviewer=fn)`` calls ``fn(held)`` once per action held
for review (by a guardrail or at the controller's request), when the decision
is due: the campaign's ``guardrails.review.latency`` after the hold (0 if the
scenario gives none). ``held`` is a :class:`HeldAction`; ``fn`` answers with

* ``True`` or ``"approve"``: apply the requested value now;
* ``False`` or ``"reject"``: do not apply it;
* a number: approve at this value instead (bids, budgets, modifiers, weights);
* a tuple ``(answer, note)`` with one of the above and a note kept in the
  results (``actions.note`` and ``reviews.note``).

Anything else (``None`` included: a reviewer that forgot to return) and any
exception abort the run with an :class:`adsim.Error` that chains the cause,
like a Python controller's exception. See docs/python.md.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

import numpy as np

__all__ = ["HeldAction", "Reviewer"]

#: Action kinds whose value a reviewer may replace by answering a number.
_NUMERIC_KINDS = ("set_bid", "set_daily_budget", "set_total_budget", "set_segment_modifier", "set_creative_weight")


@dataclass(frozen=True)
class HeldAction:
    """An action held for review, as the reviewer sees it when it decides.

    Times are simulated microseconds since the scenario start. ``old`` is the
    setting's value when the action was held, ``current`` its value now (it
    may have moved meanwhile), ``requested`` what the controller asked for
    (1 = pause, 0 = resume for pause/resume kinds). ``note`` says why it was
    held; ``reason`` is the controller's own explanation.
    """

    time: int
    held_time: int
    campaign: int
    campaign_name: str
    kind: str
    segment: int
    creative: int
    old: float
    requested: float
    current: float
    controller: str
    reason: str
    note: str

    @property
    def relative_change(self) -> float:
        """|requested - old| / old: the size of the move (inf when old is 0 or unset)."""
        if not (self.old > 0) or not math.isfinite(self.old):
            return math.inf
        return abs(self.requested - self.old) / self.old


#: What adsim.run accepts as reviewer.
Reviewer = Callable[[HeldAction], Any]

_USAGE = "True/'approve', False/'reject', a number (approve at that value) or a tuple (one of those, note)"


def _answer(held: HeldAction, answer: Any) -> Tuple[bool, Optional[float]]:
    if isinstance(answer, (bool, np.bool_)):
        return bool(answer), None
    if isinstance(answer, str):
        if answer in ("approve", "reject"):
            return answer == "approve", None
        raise ValueError(f"reviewer returned {answer!r}; expected {_USAGE}")
    if isinstance(answer, numbers.Real):  # int, float and numpy numbers
        value = float(answer)
        if held.kind not in _NUMERIC_KINDS:
            raise ValueError(f"reviewer returned the value {value} for a {held.kind} action, which has no value; "
                             "answer True or False")
        return True, value
    raise TypeError(f"reviewer returned {answer!r}; expected {_USAGE}")


def _decide(reviewer: Reviewer, request: Dict[str, Any]) -> Tuple[bool, Optional[float], str]:
    """Called by the engine (python/bindings/review.cc): (approve, value or None, note)."""
    held = HeldAction(**request)
    answer = reviewer(held)
    note = "Python reviewer"
    if isinstance(answer, tuple):
        if len(answer) != 2 or not isinstance(answer[1], str):
            raise TypeError(f"reviewer returned {answer!r}; a tuple must be (answer, note: str)")
        answer, extra = answer
        note += ": " + extra
    approve, value = _answer(held, answer)
    if value is not None:
        note += f" (approved at {value:g})"
    return approve, value, note
