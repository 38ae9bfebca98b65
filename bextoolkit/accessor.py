"""``events.bex``: the reports as DataFrame methods, for notebooks that chain.

Importing :mod:`bextoolkit` registers the accessor, so on any events frame::

    events.bex.funnel(by="day")
    events.query("messageId == '123'").bex.click_urls()
    events.bex.flag_machine_opens().bex.funnel(exclude="machine_opens")

Each method is the public function of the same name with the frame as its first
argument, so the function's docstring is the method's documentation. Besides the reports
here, the names in :data:`FORWARDED` (quality flags, comparisons, client mix, from
:mod:`bextoolkit.reports`) and every ``plot_*`` function of :mod:`bextoolkit.plotting` are
looked up when first used, so the accessor never imports the plotting module early.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final

import pandas as pd

from bextoolkit import reports

#: Functions of other modules the accessor forwards to, looked up on first use.
FORWARDED: Final = ("flag_machine_opens", "flag_bot_clicks", "compare", "client_mix")


@pd.api.extensions.register_dataframe_accessor("bex")
class BexAccessor:
    """Reports on an events frame: ``events.bex.funnel()``, ``events.bex.click_urls()``, ...

    Examples
    --------
    >>> import pandas as pd
    >>> import bextoolkit
    >>> ev = pd.DataFrame({"RECIPIENT_ID": ["1", "1"], "eventType": ["emailSend", "emailOpen"]})
    >>> ev.bex.funnel(by=None)["open_rate"].tolist()
    [1.0]
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    def sends(self, **options: Any) -> pd.DataFrame:
        """:func:`bextoolkit.sends` of this frame."""
        return reports.sends(self._frame, **options)

    def event_counts(self, **options: Any) -> pd.DataFrame:
        """:func:`bextoolkit.event_counts` of this frame."""
        return reports.event_counts(self._frame, **options)

    def funnel(self, **options: Any) -> pd.DataFrame:
        """:func:`bextoolkit.funnel` of this frame."""
        return reports.funnel(self._frame, **options)

    def bounce_breakdown(self, **options: Any) -> pd.DataFrame:
        """:func:`bextoolkit.bounce_breakdown` of this frame."""
        return reports.bounce_breakdown(self._frame, **options)

    def click_urls(self, **options: Any) -> pd.DataFrame:
        """:func:`bextoolkit.click_urls` of this frame."""
        return reports.click_urls(self._frame, **options)

    def recipient_engagement(self, **options: Any) -> pd.DataFrame:
        """:func:`bextoolkit.recipient_engagement` of this frame."""
        return reports.recipient_engagement(self._frame, **options)

    def time_to_engage(self, **options: Any) -> pd.DataFrame:
        """:func:`bextoolkit.time_to_engage` of this frame."""
        return reports.time_to_engage(self._frame, **options)

    def engagement_curve(self, **options: Any) -> pd.DataFrame:
        """:func:`bextoolkit.engagement_curve` of this frame."""
        return reports.engagement_curve(self._frame, **options)

    def activity_heatmap(self, **options: Any) -> pd.DataFrame:
        """:func:`bextoolkit.activity_heatmap` of this frame."""
        return reports.activity_heatmap(self._frame, **options)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_") or not (name in FORWARDED or name.startswith("plot_")):
            raise AttributeError(f"'DataFrame.bex' has no attribute {name!r}")
        func = _lookup(name)
        if func is None:
            raise AttributeError(
                f"'DataFrame.bex' has no attribute {name!r}: bextoolkit has no function "
                f"{name!r} in this installation."
            )
        return functools.partial(func, self._frame)

    def __dir__(self) -> list[str]:
        from bextoolkit import plotting

        extra = [n for n in plotting.__all__ if n.startswith("plot_")]
        return sorted(set(super().__dir__()) | set(FORWARDED) | set(extra))


def _lookup(name: str) -> Callable[..., Any] | None:
    """The report named in :data:`FORWARDED`, or the ``plot_*`` function ``name``, or None."""
    if name in FORWARDED:
        func = getattr(reports, name, None)
    else:
        from bextoolkit import plotting

        func = getattr(plotting, name, None) if name in plotting.__all__ else None
    return func if callable(func) else None
