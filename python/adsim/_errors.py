"""adsim's exceptions: one Python class per kind of the C++ ``adsim::Error`` hierarchy.

The compiled module translates every C++ exception into one of these, so code
using adsim only ever needs ``except adsim.Error`` (or a subclass).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional

__all__ = ["Error", "ConfigError", "DataError", "InvariantError", "IoError"]


class Error(Exception):
    """Base class of every adsim error (C++ ``adsim::Error``).

    Also raised when a Python controller fails during a run; the controller's
    own exception is then chained as ``__cause__``.
    """


class ConfigError(Error):
    """Invalid scenario or parameters (C++ ``adsim::ConfigError``).

    ``issues`` lists every problem found, each a dict with the keys ``file``
    (file name, ``"<dict>"``, ``"<string>"``...), ``path`` (field path such as
    ``campaigns[1].budget.daily``), ``line`` (1-based, 0 when unknown),
    ``expected`` and ``found``.
    """

    def __init__(self, message: Optional[str] = None, issues: Optional[Iterable[Dict[str, Any]]] = None) -> None:
        self.issues: List[Dict[str, Any]] = [
            {
                "file": str(i.get("file", "")),
                "path": str(i.get("path", "")),
                "line": int(i.get("line", 0) or 0),
                "expected": str(i.get("expected", "")),
                "found": str(i.get("found", "")),
            }
            for i in (issues or [])
        ]
        # A dict is parsed as one line of JSON: its line numbers mean nothing
        # to the user, who gets the field path instead.
        dict_lines = [i for i in self.issues if i["file"] == "<dict>" and i["line"]]
        for i in dict_lines:
            i["line"] = 0
        if message is None or dict_lines:
            message = _format_issues(self.issues)
        super().__init__(message)


class DataError(Error):
    """Bad data in an input file, e.g. a file that is not an adsim result (C++ ``adsim::DataError``)."""


class InvariantError(Error):
    """An internal invariant was broken: a bug in adsim or in a strategy (C++ ``adsim::InvariantError``)."""


class IoError(Error):
    """Reading or writing a file failed (C++ ``adsim::IoError``)."""


def _format_issue(i: Dict[str, Any]) -> str:
    """One issue formatted like the C++ ``ConfigIssue::Format``."""
    text = i["file"] or "<input>"
    if i["line"] > 0:
        text += f":{i['line']}"
    text += f": {i['path'] or '(top level)'}: expected {i['expected']}"
    if i["found"]:
        text += f", found {i['found']}"
    return text


def _format_issues(issues: List[Dict[str, Any]]) -> str:
    n = len(issues)
    head = f"{n} {'error' if n == 1 else 'errors'} in scenario"
    return "\n  ".join([head] + [_format_issue(i) for i in issues])
