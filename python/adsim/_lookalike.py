"""adsim.lookalike: lookalike audiences from a run's converters (docs/audiences.md).

Owns the Python side of lookalike audiences: reading the ``users`` table of a
run whose scenario has ``users.features``, fitting the project's L2 logistic
regression (``strategies/bidders/lib/logistic_model.h``, through the compiled
``_adsim.fit_logistic``) of each clicker's conversions on the public
features, scoring every user, selecting the top share as the audience, and
writing the model into a scenario's ``audiences:`` (with campaigns' bid
modifiers) for a second run.
"""

from __future__ import annotations

import copy
import math
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Union

import numpy as np
import pandas as pd

from . import _adsim
from ._errors import ConfigError, DataError

ScenarioLike = Union[str, "os.PathLike[str]", Mapping[str, Any]]


@dataclass
class Lookalike:
    """A fitted lookalike model and the audience it selects.

    * ``coefficients``: the intercept first, then one per user feature, on the
      logit of the conversion probability after a click;
      ``standard_errors`` from the Laplace approximation (the inverse
      penalised Hessian, ``covariance``).
    * ``threshold``: the lowest score (intercept + coefficients . features) of
      an audience member; ``share`` the share of users asked for.
    * ``audience``: the members (``segment``, ``user``, ``score``), highest
      score first; ``scores``: every user's score, in the ``users`` table's order.
    * ``seed_users``: users with at least one reported conversion (the seed
      audience); ``clickers``: users with a click (the fit's rows).
    """

    name: str
    share: float
    l2: float
    coefficients: np.ndarray
    covariance: np.ndarray
    threshold: float
    audience: pd.DataFrame
    scores: np.ndarray
    seed_users: int
    clickers: int
    iterations: int
    feature_names: List[str] = field(default_factory=list)

    @property
    def standard_errors(self) -> np.ndarray:
        """The coefficients' standard errors (square roots of the covariance's diagonal)."""
        return np.sqrt(np.diag(self.covariance))

    def fit(self) -> pd.DataFrame:
        """The coefficients with their standard errors, one row per term (``intercept``, features)."""
        return pd.DataFrame(
            {"coefficient": self.coefficients, "std_error": self.standard_errors},
            index=pd.Index(["intercept"] + self.feature_names, name="term"),
        )

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Predicted conversion probability after a click for rows of features (users x K)."""
        x = np.asarray(features, dtype=float)
        z = self.coefficients[0] + x @ self.coefficients[1:]
        return 1.0 / (1.0 + np.exp(-z))

    def to_scenario(self) -> Dict[str, Any]:
        """The audience as one entry of a scenario's ``audiences:`` list."""
        return {
            "name": self.name,
            "intercept": float(self.coefficients[0]),
            "coefficients": [float(c) for c in self.coefficients[1:]],
            "threshold": float(self.threshold),
        }

    def apply(
        self, scenario: ScenarioLike, modifiers: Optional[Mapping[str, Mapping[str, float]]] = None
    ) -> Dict[str, Any]:
        """A copy of `scenario` (a dict, YAML/JSON text or a file path) with this audience
        added to ``audiences:`` and, for each campaign named in `modifiers`, its
        ``audiences:`` bid modifiers (``{"prospecting": {"lookalike": 2.0, "others": 0.0}}``).
        The result is a dict that :func:`adsim.run` takes."""
        data = _scenario_dict(scenario)
        audiences = list(data.get("audiences") or [])
        if any(isinstance(a, Mapping) and a.get("name") == self.name for a in audiences):
            raise ConfigError(f"the scenario already has an audience named '{self.name}' (audiences[].name)")
        audiences.append(self.to_scenario())
        data["audiences"] = audiences
        campaigns = data.get("campaigns") or []
        names = [c.get("name") for c in campaigns if isinstance(c, Mapping)]
        for campaign, given in (modifiers or {}).items():
            if campaign not in names:
                raise ConfigError(
                    f"modifiers: no campaign '{campaign}' in the scenario; campaigns: {', '.join(map(str, names))}"
                )
            entry = campaigns[names.index(campaign)]
            current = dict(entry.get("audiences") or {})
            current.update({str(k): float(v) for k, v in given.items()})
            entry["audiences"] = current
        return data


def _scenario_dict(scenario: ScenarioLike) -> Dict[str, Any]:
    """A deep copy of a scenario as a dict (from a dict, YAML/JSON text or a file path)."""
    import yaml  # type: ignore[import]  # PyYAML (no stubs in Debian); imported here, not at import time

    if isinstance(scenario, Mapping):
        return copy.deepcopy(dict(scenario))
    text = str(scenario)
    if isinstance(scenario, os.PathLike) or ("\n" not in text and os.path.exists(text)):
        with open(text, encoding="utf-8") as f:
            text = f.read()
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ConfigError("scenario: expected a mapping (a scenario's fields), got " + type(data).__name__)
    return data


def lookalike(result: Any, share: float = 0.1, l2: float = 1.0, name: str = "lookalike") -> Lookalike:
    """Builds a lookalike audience from a run's converters.

    The run's scenario must have ``users.features`` (its result then has the
    ``users`` table). Every user our campaigns got a click from is a row of
    an L2 logistic regression (the project's Eigen fitter): its clicks are
    the trials, its reported conversions the successes, its features (with an
    intercept) the inputs. The penalty ``l2/2 |w - w0|^2`` is centred on the
    pooled conversion rate's logit for the intercept and 0 for the features.
    Every user of every segment is then scored with intercept + w . features,
    and the `share` of users with the highest scores is the audience.

    Raises DataError when the result has no ``users`` table or no converter,
    ConfigError when `share` is not in (0, 1] or `l2` is negative.
    """
    if not (0.0 < share <= 1.0):
        raise ConfigError(f"share: expected a number in (0, 1] (the share of users to select), got {share!r}")
    if not (l2 >= 0.0) or math.isinf(l2):
        raise ConfigError(f"l2: expected a finite number >= 0 (the L2 penalty), got {l2!r}")
    if not name or name == "others":
        raise ConfigError(f"name: expected an audience name other than '' and 'others' (reserved), got {name!r}")
    if not result.has_table("users"):
        raise DataError(
            "this result has no 'users' table: lookalike audiences need a run of a scenario with "
            "users.features (docs/audiences.md)"
        )
    users = result.raw("users")
    feature_names = sorted((c for c in users if c.startswith("feature_")), key=lambda c: int(c.split("_")[1]))
    features = np.column_stack([users[c] for c in feature_names]).astype(float)
    clicks = users["clicks"].astype(float)
    conversions = np.minimum(users["conversions"].astype(float), clicks)
    seed_users = int(np.count_nonzero(conversions > 0))
    if seed_users == 0:
        raise DataError("no user converted in this run: the seed audience is empty (nothing to look alike)")
    rows = clicks > 0
    x = np.column_stack([np.ones(int(rows.sum())), features[rows]])
    pooled = conversions[rows].sum() / clicks[rows].sum()
    prior = np.zeros(x.shape[1])
    prior[0] = math.log(pooled / (1.0 - pooled)) if 0.0 < pooled < 1.0 else 0.0
    fit = _adsim.fit_logistic(x, clicks[rows], conversions[rows], float(l2), prior)
    coefficients = np.asarray(fit["coefficients"], dtype=float)
    scores = coefficients[0] + features @ coefficients[1:]
    members = max(1, int(round(share * len(scores))))
    order = np.argsort(-scores, kind="stable")[:members]
    threshold = float(scores[order[-1]])
    audience = pd.DataFrame(
        {
            "segment": users["segment"][order],
            "user": users["user"][order],
            "score": scores[order],
        }
    ).reset_index(drop=True)
    return Lookalike(
        name=name,
        share=float(share),
        l2=float(l2),
        coefficients=coefficients,
        covariance=np.asarray(fit["covariance"], dtype=float),
        threshold=threshold,
        audience=audience,
        scores=scores,
        seed_users=seed_users,
        clickers=int(rows.sum()),
        iterations=int(fit["iterations"]),
        feature_names=feature_names,
    )
