"""Campaign reports: events -> sends -> one small aggregation per report (pure functions).

The way every report goes::

    events ──> sends.build ──> one row per send ──> funnel | bounce_breakdown | click_urls
               (recipients, seeds, machine opens,       | recipient_engagement | compare ...
                bot clicks, the window, identity)

:mod:`.sends` is the one module that decides who a recipient is, which events count, when
a send happened and what belongs to no send; every report then groups the sends (or, for
links, the clicks of sends) and adds them up. Event-level views (:func:`event_counts`,
:func:`engagement_curve`, :func:`activity_heatmap`, the quality flags) read the events.

Every function takes the events frame of :func:`bextoolkit.read_events` (or any frame with
the same column names: text columns may be category, string or object), never modifies
it, does no I/O, and returns a tidy DataFrame with one row per group.

Conventions shared by every report
----------------------------------
* **The send is the unit** (domain.md section 8): a send is one (``messageId``,
  recipient) pair with an ``emailSend``. Counts are sends; rates are over sends or
  delivered sends; a number over many mailings adds the mailings' numbers exactly.
  Distinct people are columns named as people (``people_reached``, ``people``).
* **Recipient**: ``RECIPIENT_ID``; where missing, the row's ``Email`` (trimmed,
  lower-cased) stands in, taking the id seen beside that email elsewhere in the frame
  when there is one. Rows with neither belong to no send.
* **by=**: a column name (its value on the send's row), a list of them, ``None`` (one
  row), ``"domain"`` / ``"provider"`` (the recipient's e-mail domain and mailbox
  provider), ``"mailingType"``, or a send-time bucket (``"send_hour"``, ``"send_day"``,
  ``"send_week"`` (starting Monday), ``"send_month"``, the same without ``send_``, or
  ``pd.Grouper(key="timestamp", freq="D")``): a send is placed by the time it was sent.
  Key columns come first in the result, sorted; missing key values form their own group
  (last); only combinations seen in the data appear. Time buckets follow the wall clock
  of the timestamps' own time zone; for another zone convert first, e.g.
  ``events.assign(timestamp=events["timestamp"].dt.tz_convert("Europe/Berlin"))``.
* **start= / end=** select sends by their send time (``start <= sent_at < end``, naive
  values on the timestamps' own clock); their later events count whenever they happen.
  ``attrs["window"]`` says how many sends were left out.
* **Events without a send** (an open, click, bounce, opt-out or complaint whose send is
  not in the frame: its file was not loaded or was deleted) belong to no send: they are
  counted apart in ``attrs["without_send"]`` and said in ``attrs["notes"]``, never as a
  row with no send time.
* **Zero denominators** give NaN, never 0 and never an exception.
* **Unknown event types** are counted as themselves by :func:`event_counts` and ignored by
  the fixed columns of the other reports.
* **Duplicate rows** add to gross counts (``gross_opens``), never to sends.
* **Events before the send** (a timestamp earlier than the send, usually clock skew) count
  like any other; ``funnel(..., diagnostics=True)`` shows how many there are.

Speed: no ``groupby().nunique()`` on text. Recipients, mailings and event types become
integer codes once (category codes for free, the numbers of numeric ids, ``pd.factorize``
otherwise), sends are a sort-free table of (mailing, recipient) keys, and every count is a
``bincount`` (:mod:`._kernels`); ``benchmarks/bench_reports.py`` compares each report with
DuckDB SQL answering the same question over the same sends.
"""

from __future__ import annotations

from bextoolkit.reports._distributed import by_recipient  # and registers the Dask reports
from bextoolkit.reports.abtest import Comparison, compare
from bextoolkit.reports.bounces import bounce_breakdown
from bextoolkit.reports.clicks import click_urls
from bextoolkit.reports.counts import event_counts
from bextoolkit.reports.deliverability import (
    deliverability,
    mailed_after_hard_bounce,
    mailed_after_opt_out,
)
from bextoolkit.reports.engagement import activity_heatmap, engagement_curve, time_to_engage
from bextoolkit.reports.funnel import CONVENTIONS, FUNNEL_COLUMNS, funnel
from bextoolkit.reports.providers import PROVIDER_DOMAINS, PROVIDERS, provider_of
from bextoolkit.reports.quality import flag_bot_clicks, flag_counts, flag_machine_opens
from bextoolkit.reports.recipients import RECIPIENT_COLUMNS, recipient_engagement
from bextoolkit.reports.segments import SEGMENTS, segments
from bextoolkit.reports.send_hours import engagement_hours, send_hours
from bextoolkit.reports.sends import SEND_COLUMNS, events_of_sends, sends
from bextoolkit.reports.urls import TRACKING_PARAMS, normalize_url
from bextoolkit.reports.user_agents import classify_user_agents, client_mix

__all__ = [
    "CONVENTIONS",
    "FUNNEL_COLUMNS",
    "PROVIDERS",
    "PROVIDER_DOMAINS",
    "RECIPIENT_COLUMNS",
    "SEGMENTS",
    "SEND_COLUMNS",
    "TRACKING_PARAMS",
    "Comparison",
    "activity_heatmap",
    "bounce_breakdown",
    "by_recipient",
    "classify_user_agents",
    "click_urls",
    "client_mix",
    "compare",
    "deliverability",
    "engagement_curve",
    "engagement_hours",
    "event_counts",
    "events_of_sends",
    "flag_bot_clicks",
    "flag_counts",
    "flag_machine_opens",
    "funnel",
    "mailed_after_hard_bounce",
    "mailed_after_opt_out",
    "normalize_url",
    "provider_of",
    "recipient_engagement",
    "segments",
    "send_hours",
    "sends",
    "time_to_engage",
]
