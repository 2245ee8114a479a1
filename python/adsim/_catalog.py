"""The run catalogue: a local SQLite file listing result files, their tags, notes and headline KPIs.

Owns the catalogue's schema, :class:`Catalog` (add, find, show, compare,
remove) and :func:`catalog` (the runs as a DataFrame); ``adsim catalog``
(python/adsim/commands/catalog.py) is its command line. One row per result
file: what ran (scenario name and fingerprint, seed, bidders, controllers,
monitors), what came out (spend, conversions, value, CPA, ROAS, regret when
the run had an oracle, the run's fingerprint), where the file is, the tags
and a free-text note. Documented in docs/catalog.md.

The file is found from ``db=`` / ``--db``, else the ``ADSIM_CATALOG``
environment variable, else ``$XDG_DATA_HOME/adsim/catalog.sqlite``
(``~/.local/share/adsim/catalog.sqlite``): one catalogue per user, whatever
the working directory, so a run catalogued from one checkout is found from
another. Only Python's sqlite3 is used.
"""

from __future__ import annotations

import datetime as _datetime
import hashlib
import json
import math
import os
import sqlite3
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Union

import numpy as np
import pandas as pd

from ._errors import ConfigError, DataError, IoError

PathLike = Union[str, "os.PathLike[str]"]

#: Version of the catalogue's own tables (stored in its ``meta`` table).
CATALOG_SCHEMA = 1
#: The headline KPIs stored per run, in this order; regret is NaN without an oracle.
KPI_COLUMNS = ("spend", "conversions", "value", "cpa", "roas", "regret_conversions", "regret_value")
#: The columns of :meth:`Catalog.runs`, in order.
RUN_COLUMNS = (
    "id", "added", "path", "scenario_name", "scenario_fingerprint", "seed", "fingerprint", "adsim_version",
    "bidders", "controllers", "monitors", "tags", *KPI_COLUMNS, "note",
)

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  added TEXT NOT NULL,
  path TEXT NOT NULL UNIQUE,
  scenario_name TEXT NOT NULL,
  scenario_fingerprint TEXT NOT NULL,
  seed TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  adsim_version TEXT NOT NULL,
  bidders TEXT NOT NULL,
  controllers TEXT NOT NULL,
  monitors TEXT NOT NULL,
  {", ".join(f"{k} REAL" for k in KPI_COLUMNS)},
  note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS tags (
  run INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  tag TEXT NOT NULL,
  PRIMARY KEY (run, tag)
);
"""


def default_path() -> Path:
    """Where the catalogue is when neither ``db=`` nor ``ADSIM_CATALOG`` says: ``$XDG_DATA_HOME/adsim/catalog.sqlite``."""
    if os.environ.get("ADSIM_CATALOG"):
        return Path(os.environ["ADSIM_CATALOG"])
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(data_home) / "adsim" / "catalog.sqlite"


def _scenario_strategies(scenario_text: str) -> Dict[str, List[str]]:
    """Controller and monitor types (with their labels) named in the scenario text."""
    import yaml  # type: ignore[import]  # PyYAML; JSON is YAML too

    try:
        scenario = yaml.safe_load(scenario_text) if scenario_text else {}
    except yaml.YAMLError:
        scenario = {}
    if not isinstance(scenario, dict):
        scenario = {}

    def names(items: Any) -> List[str]:
        found = []
        for item in items or []:
            if isinstance(item, str):
                found.append(item)
            elif isinstance(item, dict) and "type" in item:
                label = item.get("label")
                found.append(f"{item['type']}:{label}" if label else str(item["type"]))
        return found

    controllers = names(scenario.get("controllers"))
    for campaign in scenario.get("campaigns", []) or []:
        if isinstance(campaign, dict):
            controllers += names(campaign.get("controllers"))
    return {"controllers": sorted(set(controllers)), "monitors": sorted(set(names(scenario.get("monitors"))))}


def describe(result: Any) -> Dict[str, Any]:
    """The catalogue row of one :class:`adsim.Result` (without id, added, tags and note)."""
    attrs = result.attrs
    kpis = result.kpis()
    spend = float(kpis["spend"].sum())
    conversions = float(kpis["conversions"].sum())
    value = float(kpis["value"].sum())
    regret_conversions = regret_value = math.nan
    if result.has_table("oracle"):
        oracle = result.raw("oracle")
        regret_conversions = float(np.sum(oracle["regret_conversions"]))
        regret_value = float(np.sum(oracle["regret_value"]))
    strategies = _scenario_strategies(result.scenario)
    return {
        "path": os.path.abspath(result.path) if result.path else "",
        "scenario_name": str(attrs.get("scenario_name", "")),
        # The same scenario text gives the same scenario fingerprint, whatever the seed.
        "scenario_fingerprint": hashlib.sha256(result.scenario.encode()).hexdigest()[:16],
        "seed": str(attrs.get("seed", "")),
        "fingerprint": result.fingerprint,
        "adsim_version": str(attrs.get("adsim_version", "")),
        "bidders": ",".join(sorted({str(b) for b in result.raw("campaigns").get("bidder", [])})),
        "controllers": ",".join(strategies["controllers"]),
        "monitors": ",".join(strategies["monitors"]),
        "spend": spend,
        "conversions": conversions,
        "value": value,
        "cpa": spend / conversions if conversions > 0 else math.nan,
        "roas": value / spend if spend > 0 else math.nan,
        "regret_conversions": regret_conversions,
        "regret_value": regret_value,
    }


def _clean_tags(tags: Optional[Union[str, Iterable[str]]]) -> List[str]:
    """Tags as a list without blanks or repeats; each item may itself be comma-separated."""
    if isinstance(tags, str):
        tags = [tags]
    out: List[str] = []
    for tag in tags or []:
        for part in str(tag).split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


class Catalog:
    """A run catalogue in one SQLite file (see the module docstring for where it is).

    `timeout` is how long (seconds) to wait for another process holding the
    file locked before failing with :class:`adsim.IoError`.
    """

    def __init__(self, db: Optional[PathLike] = None, timeout: float = 5.0) -> None:
        self.path = Path(os.fspath(db)) if db is not None else default_path()
        self.timeout = timeout

    # ---- connection ---------------------------------------------------------

    def _connect(self, create: bool) -> Optional[sqlite3.Connection]:
        """A connection, or None when the file does not exist and `create` is false."""
        if self.path.is_dir():
            raise IoError(f"catalogue '{self.path}' is a folder, expected an SQLite file")
        if not self.path.exists():
            if not create:
                return None
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise IoError(f"cannot create the catalogue's folder '{self.path.parent}': {error.strerror}") from None
        try:
            connection = sqlite3.connect(str(self.path), timeout=self.timeout)
            connection.execute("PRAGMA foreign_keys = ON")
            if create:
                with connection:
                    connection.executescript(_SCHEMA)
                    connection.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(CATALOG_SCHEMA),))
            self._check_schema(connection)
        except sqlite3.Error as error:
            raise self._translate(error) from None
        return connection

    def _check_schema(self, connection: sqlite3.Connection) -> None:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"meta", "runs", "tags"} <= tables:
            raise DataError(f"'{self.path}' is an SQLite file but not an adsim run catalogue "
                            f"(expected tables meta, runs and tags; found {', '.join(sorted(tables)) or 'none'})")
        version = connection.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        if version is None or int(version[0]) > CATALOG_SCHEMA:
            raise DataError(f"catalogue '{self.path}' has schema {version[0] if version else '?'}; "
                            f"this adsim reads schema {CATALOG_SCHEMA} or older")

    def _translate(self, error: sqlite3.Error) -> Exception:
        text = str(error)
        if "locked" in text or "busy" in text:
            return IoError(f"catalogue '{self.path}' is locked by another process (waited {self.timeout:g} s): {text}")
        if isinstance(error, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
            return DataError(f"catalogue '{self.path}' is not a valid SQLite file (corrupt or another kind of file): {text}")
        if "readonly" in text or "unable to open" in text:
            return IoError(f"cannot write catalogue '{self.path}': {text}")
        return DataError(f"catalogue '{self.path}': {text}")

    def _run_query(self, sql: str, parameters: Sequence[Any] = (), create: bool = False) -> List[sqlite3.Row]:
        connection = self._connect(create)
        if connection is None:
            return []
        try:
            connection.row_factory = sqlite3.Row
            return connection.execute(sql, parameters).fetchall()
        except sqlite3.Error as error:
            raise self._translate(error) from None
        finally:
            connection.close()

    # ---- writing --------------------------------------------------------------

    def add(self, path: PathLike, tags: Optional[Union[str, Iterable[str]]] = None, note: Optional[str] = None) -> int:
        """Catalogues the result file at `path` and returns its id.

        The file is read with :func:`adsim.load` (IoError if it cannot be
        read, DataError if it is not an adsim result). Adding a file already
        catalogued (same absolute path) refreshes its row from the file, adds
        the new tags and replaces the note if one is given; the id stays.
        Tags may also be given comma-separated.
        """
        from ._result import load

        result = load(path)
        row = describe(result)
        tags = _clean_tags(tags)
        connection = self._connect(create=True)
        assert connection is not None
        try:
            with connection:  # one transaction: the row and its tags, or nothing
                existing = connection.execute("SELECT id FROM runs WHERE path = ?", (row["path"],)).fetchone()
                if existing is None:
                    row["added"] = _datetime.datetime.now(_datetime.timezone.utc).isoformat(timespec="seconds")
                    row["note"] = note or ""
                    columns = list(row)
                    cursor = connection.execute(
                        f"INSERT INTO runs ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                        [row[c] for c in columns])
                    run_id = int(cursor.lastrowid or 0)
                else:
                    run_id = int(existing[0])
                    if note is not None:
                        row["note"] = note
                    assignments = ", ".join(f"{c} = ?" for c in row)
                    connection.execute(f"UPDATE runs SET {assignments} WHERE id = ?", [*row.values(), run_id])
                connection.executemany("INSERT OR IGNORE INTO tags VALUES (?, ?)", [(run_id, t) for t in tags])
        except sqlite3.Error as error:
            raise self._translate(error) from None
        finally:
            connection.close()
        return run_id

    def remove(self, run_id: int) -> None:
        """Removes run `run_id` from the catalogue (not the file). ConfigError if there is no such run."""
        self.get(run_id)
        connection = self._connect(create=False)
        assert connection is not None
        try:
            with connection:
                connection.execute("DELETE FROM runs WHERE id = ?", (int(run_id),))
        except sqlite3.Error as error:
            raise self._translate(error) from None
        finally:
            connection.close()

    def tag(self, run_id: int, tags: Union[str, Iterable[str]], remove: bool = False) -> None:
        """Adds (or with `remove`, removes) tags of run `run_id`."""
        self.get(run_id)
        connection = self._connect(create=False)
        assert connection is not None
        pairs = [(int(run_id), t) for t in _clean_tags(tags)]
        try:
            with connection:
                sql = "DELETE FROM tags WHERE run = ? AND tag = ?" if remove else "INSERT OR IGNORE INTO tags VALUES (?, ?)"
                connection.executemany(sql, pairs)
        except sqlite3.Error as error:
            raise self._translate(error) from None
        finally:
            connection.close()

    # ---- reading --------------------------------------------------------------

    def runs(self, tags: Optional[Union[str, Iterable[str]]] = None, text: Optional[str] = None) -> pd.DataFrame:
        """The catalogued runs, oldest first, as a DataFrame with :data:`RUN_COLUMNS`.

        `tags`: only runs carrying every one of them. `text`: only runs whose
        note, tags, scenario name, path, seed, fingerprint or strategies contain
        it (case-insensitive). ``tags`` is a comma-separated string.
        """
        where, parameters = [], []
        for tag in _clean_tags(tags):
            where.append("id IN (SELECT run FROM tags WHERE tag = ?)")
            parameters.append(tag)
        if text:
            fields = ["note", "scenario_name", "path", "seed", "fingerprint", "scenario_fingerprint", "bidders",
                      "controllers", "monitors", "(SELECT group_concat(tag, ',') FROM tags WHERE run = id)"]
            where.append("(" + " OR ".join(f"instr(lower(coalesce({f}, '')), lower(?)) > 0" for f in fields) + ")")
            parameters += [text] * len(fields)
        sql = ("SELECT *, (SELECT group_concat(tag, ',') FROM (SELECT tag FROM tags WHERE run = id ORDER BY tag)) AS tags "
               "FROM runs" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id")
        rows = self._run_query(sql, parameters)
        frame = pd.DataFrame([dict(r) for r in rows], columns=list(RUN_COLUMNS))
        frame["tags"] = frame["tags"].fillna("")
        for column in KPI_COLUMNS:
            frame[column] = frame[column].astype(float)
        frame["id"] = frame["id"].astype("int64")
        return frame

    def get(self, run_id: Union[int, str]) -> Dict[str, Any]:
        """Run `run_id` as a dict (RUN_COLUMNS); ConfigError naming the catalogue if there is none."""
        try:
            number = int(run_id)
        except (TypeError, ValueError):
            raise ConfigError(f"run id: expected a whole number, found {run_id!r}") from None
        runs = self.runs()
        found = runs[runs["id"] == number]
        if found.empty:
            known = ", ".join(str(i) for i in runs["id"]) or "none"
            raise ConfigError(f"no run {number} in catalogue '{self.path}' (ids: {known})")
        row = found.iloc[0].to_dict()
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}

    def compare(self, first: Union[int, str], second: Union[int, str]) -> pd.DataFrame:
        """The headline KPIs of two runs side by side: one row per KPI, columns the two
        ids, ``difference`` (second − first) and ``ratio`` (second / first)."""
        a, b = self.get(first), self.get(second)

        def number(value: Any) -> float:
            return math.nan if value is None else float(value)

        rows = []
        for kpi in KPI_COLUMNS:
            x, y = number(a[kpi]), number(b[kpi])
            rows.append({"kpi": kpi, f"run {a['id']}": x, f"run {b['id']}": y, "difference": y - x,
                         "ratio": y / x if x not in (0.0,) and not math.isnan(x) else math.nan})
        return pd.DataFrame(rows).set_index("kpi")


def catalog(db: Optional[PathLike] = None, tag: Optional[Union[str, Iterable[str]]] = None,
            text: Optional[str] = None) -> pd.DataFrame:
    """The runs of the catalogue (``db``, else ``ADSIM_CATALOG``, else
    ``~/.local/share/adsim/catalog.sqlite``) as a DataFrame, one row per run;
    `tag` (one, a list, or comma-separated; every one must match) and `text`
    filter as in ``adsim catalog list``. An absent catalogue gives no rows."""
    return Catalog(db).runs(tags=tag, text=text)


def to_json(frame: pd.DataFrame) -> str:
    """Rows as a JSON list of objects (NaN as null)."""
    records = json.loads(frame.to_json(orient="records"))
    return json.dumps(records, indent=2)


__all__ = ["Catalog", "catalog", "default_path", "describe", "CATALOG_SCHEMA", "KPI_COLUMNS", "RUN_COLUMNS"]
