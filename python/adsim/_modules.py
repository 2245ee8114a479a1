"""Loading the user's Python strategy modules: the files named by
``adsim run --python-module FILE`` and by a scenario's ``python:`` list.

A module is an ordinary Python file whose import registers components
(``@adsim.register_bidder``, ``@adsim.register_controller``); once loaded,
scenarios name those components like the built-in ones. Each file is
imported once per process (by its absolute path); a file that is missing or
fails to import is a :class:`adsim.ConfigError` naming the file and the
field (or option) that named it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import traceback
from types import ModuleType
from typing import Dict, List, Optional

from ._errors import ConfigError

__all__ = ["load_module", "load_scenario_modules"]

#: Absolute path -> the module imported from it (one import per process).
_LOADED: Dict[str, ModuleType] = {}


def _issue(file: str, where: str, line: int, found: str) -> ConfigError:
    return ConfigError(
        issues=[
            {
                "file": file,
                "path": where,
                "line": line,
                "expected": "a Python module file that imports without error",
                "found": found,
            }
        ]
    )


def load_module(path: "str | os.PathLike[str]", where: str = "--python-module", file: str = "<argument>",
                line: int = 0, shown: Optional[str] = None) -> ModuleType:
    """Imports the Python file `path` (once per process), so the components it
    registers become usable by name in scenarios; returns the module.

    `where`, `file` and `line` say who named the file, for the error: the
    option (``--python-module``) or the scenario's field (``python[0]`` of
    ``scenario.yaml``, line 3); `shown` is the path as the user wrote it
    (default: `path`). A missing file, or one whose import raises, is
    a ConfigError; for a failed import the message ends with the exception's
    last traceback line (``ModuleNotFoundError: No module named 'x'``) and the
    exception is chained as ``__cause__``.
    """
    full = os.path.abspath(os.fspath(path))
    text = shown if shown is not None else os.fspath(path)
    if full in _LOADED:
        return _LOADED[full]
    if not os.path.isfile(full):
        raise _issue(file, where, line, f"'{text}', which does not exist (looked for {full})")
    # A private, stable module name: two files called strategies.py in
    # different folders are different modules.
    stem = os.path.splitext(os.path.basename(full))[0]
    digest = hashlib.sha1(full.encode("utf-8")).hexdigest()[:12]
    name = f"adsim_user_modules.{stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, full)
    if spec is None or spec.loader is None:
        raise _issue(file, where, line, f"'{text}', which Python cannot import as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except KeyboardInterrupt:
        del sys.modules[name]
        raise
    except BaseException as error:  # noqa: B902 - SyntaxError, SystemExit... all mean "failed to import"
        del sys.modules[name]
        last = traceback.format_exception_only(type(error), error)[-1].strip()
        raise _issue(file, where, line, f"'{text}', whose import failed: {last}") from error
    _LOADED[full] = module
    return module


def load_scenario_modules(modules: List["tuple[str, int]"], source: str, path: Optional[str]) -> List[ModuleType]:
    """Loads a scenario's ``python:`` list, [(path as written, line)]: relative
    paths are taken from the scenario file's folder (from the working
    directory for a scenario given as text or a dict)."""
    base = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()
    file = path if path else source
    loaded = []
    for k, (module_path, line) in enumerate(modules):
        full = module_path if os.path.isabs(module_path) else os.path.join(base, module_path)
        loaded.append(load_module(full, where=f"python[{k}]", file=file, line=line, shown=module_path))
    return loaded
