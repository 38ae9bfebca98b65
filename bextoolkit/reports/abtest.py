"""A/B comparison of two mailings (or two groups of mailings) on one funnel rate.

Each arm's successes and trials come from :func:`bextoolkit.funnel` (summed over the
mailings of the arm, so every recipient-mailing is one trial). Each rate gets a Wilson
score interval; the difference gets a pooled two-proportion z-test. No winner is named
below a minimum sample size, and the verdict says why.

The sample-size rule (both must hold in *each* arm before a winner is called):

* at least ``min_sample`` trials (default 100), and
* at least ``min_successes`` successes *and* as many failures (default 10): the usual
  condition for the normal approximation behind the z-test to hold.
"""

from __future__ import annotations

import html
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Final

import pandas as pd

from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports._kernels import require_columns
from bextoolkit.reports.funnel import funnel

__all__ = ["METRICS", "Comparison", "compare", "two_proportion_test", "wilson_interval"]

#: Funnel rate -> (successes column, trials column, higher is better).
METRICS: Final = {
    "open_rate": ("unique_opens", "delivered", True),
    "click_rate": ("unique_clicks", "delivered", True),
    "click_to_open": ("unique_clicks", "unique_opens", True),
    "bounce_rate": ("bounced", "sent", False),
    "opt_out_rate": ("opt_outs", "delivered", False),
}


def wilson_interval(
    successes: int, trials: int, *, confidence: float = 0.95
) -> tuple[float, float]:
    """Wilson score interval of a proportion; ``(nan, nan)`` without trials or when
    ``successes`` is not between 0 and ``trials``.

    Examples
    --------
    >>> low, high = wilson_interval(10, 100)
    >>> round(low, 4), round(high, 4)
    (0.0552, 0.1744)
    """
    if trials <= 0 or not 0 <= successes <= trials:
        return (math.nan, math.nan)
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == trials else min(1.0, centre + half)
    return (low, high)


def two_proportion_test(
    successes_a: int, trials_a: int, successes_b: int, trials_b: int
) -> tuple[float, float]:
    """Pooled two-proportion z-test: ``(z, two-sided p-value)``; z > 0 when A is higher.

    ``(nan, nan)`` when an arm has no trials; ``(0.0, 1.0)`` when the pooled rate is 0 or 1.

    Examples
    --------
    >>> z, p = two_proportion_test(30, 200, 50, 200)
    >>> round(z, 3), round(p, 4)
    (-2.5, 0.0124)
    """
    if trials_a <= 0 or trials_b <= 0:
        return (math.nan, math.nan)
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / trials_a + 1 / trials_b))
    if se == 0:
        return (0.0, 1.0)
    z = (successes_a / trials_a - successes_b / trials_b) / se
    return (z, math.erfc(abs(z) / math.sqrt(2)))


@dataclass(frozen=True)
class Comparison:
    """The answer of :func:`compare`.

    Attributes
    ----------
    metric : the funnel rate compared.
    arms : one row per arm (``A``, ``B``): ``label``, ``successes``, ``trials``, ``rate``,
        ``ci_low``, ``ci_high``.
    z, p_value : the pooled two-proportion z-test (z > 0 when A's rate is higher).
    confidence : the level of the intervals and of the test (alpha = 1 - confidence).
    winner : ``"A"``, ``"B"`` or None.
    verdict : one sentence saying who won, that nobody did, or why it cannot be said.

    Examples
    --------
    >>> import pandas as pd
    >>> arms = pd.DataFrame({"label": ["A", "B"], "successes": [30, 10], "trials": [100] * 2,
    ...                      "rate": [0.3, 0.1], "ci_low": [0.22, 0.06], "ci_high": [0.4, 0.17]},
    ...                     index=["A", "B"])
    >>> c = Comparison("click_rate", arms, 3.5, 0.0005, 0.95, "A", "A wins.")
    >>> round(c.difference, 2)
    -0.2
    """

    metric: str
    arms: pd.DataFrame
    z: float
    p_value: float
    confidence: float
    winner: str | None
    verdict: str

    @property
    def difference(self) -> float:
        """Rate of B minus rate of A."""
        return float(self.arms["rate"].iloc[1] - self.arms["rate"].iloc[0])

    def to_frame(self) -> pd.DataFrame:
        """The arms table with the test in ``attrs`` (a copy)."""
        out = self.arms.copy()
        out.attrs.update(
            metric=self.metric, z=self.z, p_value=self.p_value, winner=self.winner,
            verdict=self.verdict, confidence=self.confidence,
        )  # fmt: skip
        return out

    def _rows(self) -> list[str]:
        level = f"{self.confidence:.0%}"
        return [
            f"{arm}  {row.label}: {row.rate:.2%} ({row.successes:,}/{row.trials:,}), "
            f"{level} CI {row.ci_low:.2%}-{row.ci_high:.2%}"
            for arm, row in zip(self.arms.index, self.arms.itertuples(), strict=True)
        ]

    def __repr__(self) -> str:
        lines = [f"Comparison of {self.metric}:", *("  " + r for r in self._rows())]
        lines.append(f"  z = {self.z:.3f}, p = {self.p_value:.4g}")
        lines.append(f"  verdict: {self.verdict}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        table = self.arms.to_html(
            float_format=lambda v: f"{v:.4f}", classes="bex-compare", border=0
        )
        return (
            f"<div><strong>Comparison of {html.escape(self.metric)}</strong>{table}"
            f"<p>z = {self.z:.3f}, p = {self.p_value:.4g} "
            f"(confidence {self.confidence:.0%})</p>"
            f"<p><strong>{html.escape(self.verdict)}</strong></p></div>"
        )


def _arm_values(arm: Any) -> list[Hashable]:
    if isinstance(arm, str) or not isinstance(arm, Sequence | set | frozenset | pd.Index):
        return [arm]
    return list(arm)


def _label(values: list[Hashable], funnel_rows: pd.DataFrame) -> str:
    if len(values) == 1 and "messageName" in funnel_rows.columns and len(funnel_rows) == 1:
        name = funnel_rows["messageName"].iloc[0]
        if isinstance(name, str) and name:
            return f"{name} ({values[0]})"
    return ", ".join(map(str, values))


def _over_openers_or_clickers(table: pd.DataFrame) -> bool:
    convention = table.attrs.get("convention") or {}
    return convention.get("click_to_open", "openers") != "openers"


def compare(
    events: pd.DataFrame,
    a: Any,
    b: Any,
    metric: str = "click_rate",
    *,
    by: str = "messageId",
    confidence: float = 0.95,
    min_sample: int = 100,
    min_successes: int = 10,
    **funnel_options: Any,
) -> Comparison:
    """Compare two mailings (or groups of them) on one funnel rate, with a verdict.

    Parameters
    ----------
    events : DataFrame
        The events frame.
    a, b : value or list of values
        The ``by`` value(s) of each arm, e.g. two ``messageId`` values, or two lists of
        them to pool several mailings per arm.
    metric : {"open_rate", "click_rate", "click_to_open", "bounce_rate", "opt_out_rate"}
        A funnel rate; successes and trials per :data:`METRICS` (e.g. click_rate =
        unique_clicks / delivered), except that click_to_open follows the funnel's
        convention (over openers-or-clickers with ``convention="iterable"``). For bounce
        and opt-out rates lower is better.
    by : str, default ``"messageId"``
        The column ``a`` and ``b`` refer to.
    confidence : float, default 0.95
        Level of the Wilson intervals; the test calls a winner when p < 1 - confidence.
    min_sample : int, default 100
        Fewest trials per arm before a winner may be called.
    min_successes : int, default 10
        Fewest successes and fewest failures per arm before a winner may be called.
    **funnel_options
        Passed on to :func:`bextoolkit.funnel` (``convention=``, ``exclude=``).

    Returns
    -------
    Comparison
        ``arms`` (one row per arm), ``z``, ``p_value``, ``winner`` and ``verdict``; it
        shows as a table in a notebook. ``.to_frame()`` gives the tidy arms table.

    Raises
    ------
    BexConfigError
        For an unknown metric, a bad confidence, an arm with no events, or arms sharing
        values.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "messageId": ["A"] * 200 + ["B"] * 200 + ["A"] * 60 + ["B"] * 20,
    ...     "RECIPIENT_ID": [str(i) for i in range(400)] + [str(i) for i in range(60)]
    ...                     + [str(200 + i) for i in range(20)],
    ...     "eventType": ["emailSend"] * 400 + ["emailClick"] * 80})
    >>> result = compare(ev, "A", "B", metric="click_rate")
    >>> result.winner, round(result.difference, 2)
    ('A', -0.2)
    >>> result.to_frame()[["label", "successes", "trials", "rate"]].reset_index(drop=True)
      label  successes  trials  rate
    0     A         60     200   0.3
    1     B         20     200   0.1
    """
    if metric not in METRICS:
        raise BexConfigError(
            f"compare: metric={metric!r} is not one of {', '.join(METRICS)}; pick one of those."
        )
    if not 0 < confidence < 1:
        raise BexConfigError(f"compare: confidence={confidence!r} must be between 0 and 1.")
    require_columns(events, [by], what="compare")
    values_a, values_b = _arm_values(a), _arm_values(b)
    if set(map(str, values_a)) & set(map(str, values_b)):
        raise BexConfigError("compare: the two arms share values; give each mailing to one arm.")

    success_col, trial_col, higher_is_better = METRICS[metric]
    trial_name = trial_col
    key = events[by].astype("string")
    rows = []
    for name, values in (("A", values_a), ("B", values_b)):
        chosen = events.loc[key.isin([str(v) for v in values]).fillna(False).to_numpy(dtype=bool)]
        if chosen.empty:
            raise BexConfigError(
                f"compare: arm {name} ({', '.join(map(str, values))}) matches no events in "
                f"column {by!r}; check the values against events[{by!r}].unique()."
            )
        table = funnel(chosen, by=by, **funnel_options)
        successes, trials = int(table[success_col].sum()), int(table[trial_col].sum())
        if metric == "click_to_open" and _over_openers_or_clickers(table):
            either = funnel(chosen, by=by, **{**funnel_options, "click_implies_open": True})
            trials = int(either["unique_opens"].sum())
            trial_name = "openers_or_clickers"
        low, high = wilson_interval(successes, trials, confidence=confidence)
        rows.append(
            {
                "arm": name,
                "label": _label(values, table),
                "successes": successes,
                "trials": trials,
                "rate": successes / trials if trials else math.nan,
                "ci_low": low,
                "ci_high": high,
            }
        )
    arms = pd.DataFrame(rows).set_index("arm")
    z, p_value = two_proportion_test(*arms[["successes", "trials"]].to_numpy().ravel())
    winner, verdict = _verdict(
        arms, metric, trial_name, z, p_value, confidence, min_sample, min_successes,
        higher_is_better,
    )  # fmt: skip
    return Comparison(metric, arms, z, p_value, confidence, winner, verdict)


def _verdict(
    arms: pd.DataFrame,
    metric: str,
    trial_col: str,
    z: float,
    p_value: float,
    confidence: float,
    min_sample: int,
    min_successes: int,
    higher_is_better: bool,
) -> tuple[str | None, str]:
    over = arms[(arms["successes"] > arms["trials"]) | (arms["successes"] < 0)]
    if not over.empty:
        arm, row = next(iter(over.iterrows()))
        return None, (
            f"cannot compare: arm {arm} has {row['successes']} successes out of "
            f"{row['trials']} {trial_col}; for click_to_open pass convention='iterable' "
            "or click_implies_open=True so that every clicker counts as a trial"
        )
    short = []
    for arm, row in arms.iterrows():
        failures = row["trials"] - row["successes"]
        if row["trials"] < min_sample:
            short.append(f"arm {arm} has {row['trials']} {trial_col} (< {min_sample})")
        elif min(row["successes"], failures) < min_successes:
            short.append(
                f"arm {arm} has {row['successes']} successes and {failures} failures "
                f"(each must be >= {min_successes})"
            )
    if short:
        return None, "not enough data: " + "; ".join(short)
    alpha = 1 - confidence
    rates = f"{arms['rate'].iloc[0]:.2%} vs {arms['rate'].iloc[1]:.2%}"
    if not p_value < alpha:
        return None, (
            f"no significant difference in {metric} ({rates}, p = {p_value:.3g} >= {alpha:.2g})"
        )
    a_better = (z > 0) == higher_is_better
    winner = "A" if a_better else "B"
    label = str(arms.loc[winner, "label"])
    return winner, f"{winner} ({label}) wins on {metric}: {rates}, p = {p_value:.3g} < {alpha:.2g}"
