"""bextoolkit: Acoustic Campaign Bulk Event Export (BEX) in Jupyter.

Build and manage BEX job definitions, load the exported event files into pandas from
anywhere fsspec reaches, and answer campaign questions with reports and plots.
"""

from __future__ import annotations

from bextoolkit import accessor as _accessor  # noqa: F401  registers DataFrame.bex
from bextoolkit import sync
from bextoolkit.auth import Credentials, api_base_url, sftp_host
from bextoolkit.client import BexClient
from bextoolkit.exceptions import (
    BexAPIError,
    BexAuthError,
    BexBadRequestError,
    BexConfigError,
    BexConflictError,
    BexConnectionError,
    BexError,
    BexFileError,
    BexForbiddenError,
    BexNotFoundError,
    BexRateLimitError,
    BexServerError,
    BexTimeoutError,
    BexValidationError,
)
from bextoolkit.jobs import Channel, ColumnSpec, JobDefinition
from bextoolkit.plotting import (
    plot_bounces,
    plot_click_urls,
    plot_deliverability,
    plot_engagement,
    plot_funnel,
    plot_heatmap,
    plot_timeline,
    plot_trend,
)
from bextoolkit.readers import list_exports, parse_export_name, read_events
from bextoolkit.reports import (
    Comparison,
    activity_heatmap,
    bounce_breakdown,
    classify_user_agents,
    click_urls,
    client_mix,
    compare,
    deliverability,
    engagement_curve,
    event_counts,
    flag_bot_clicks,
    flag_machine_opens,
    funnel,
    mailed_after_hard_bounce,
    mailed_after_opt_out,
    normalize_url,
    recipient_engagement,
    segments,
    send_hours,
    sends,
    time_to_engage,
)
from bextoolkit.samples import generate_events, write_exports, write_rrde
from bextoolkit.schema import (
    BEX_COLUMNS,
    EVENT_TYPES,
    FILE_FORMATS,
    JOB_FREQUENCIES,
    MAILING_TYPES,
)
from bextoolkit.sharing import CampaignReport
from bextoolkit.sync import SyncResult

__version__ = "0.1.0"

__all__ = [
    "BEX_COLUMNS",
    "EVENT_TYPES",
    "FILE_FORMATS",
    "JOB_FREQUENCIES",
    "MAILING_TYPES",
    "BexAPIError",
    "BexAuthError",
    "BexBadRequestError",
    "BexClient",
    "BexConfigError",
    "BexConflictError",
    "BexConnectionError",
    "BexError",
    "BexFileError",
    "BexForbiddenError",
    "BexNotFoundError",
    "BexRateLimitError",
    "BexServerError",
    "BexTimeoutError",
    "BexValidationError",
    "CampaignReport",
    "Channel",
    "ColumnSpec",
    "Comparison",
    "Credentials",
    "JobDefinition",
    "Sandbox",
    "SyncResult",
    "__version__",
    "activity_heatmap",
    "api_base_url",
    "bounce_breakdown",
    "classify_user_agents",
    "click_urls",
    "client_mix",
    "compare",
    "deliverability",
    "engagement_curve",
    "event_counts",
    "flag_bot_clicks",
    "flag_machine_opens",
    "funnel",
    "generate_events",
    "list_exports",
    "mailed_after_hard_bounce",
    "mailed_after_opt_out",
    "normalize_url",
    "parse_export_name",
    "plot_bounces",
    "plot_click_urls",
    "plot_deliverability",
    "plot_engagement",
    "plot_funnel",
    "plot_heatmap",
    "plot_timeline",
    "plot_trend",
    "read_events",
    "recipient_engagement",
    "segments",
    "send_hours",
    "sends",
    "sftp_host",
    "sync",
    "time_to_engage",
    "write_exports",
    "write_rrde",
]


def __getattr__(name: str) -> object:
    """``bex.widgets`` imports :mod:`bextoolkit.widgets` (and ipywidgets) on first use only."""
    if name in ("widgets", "sandbox"):
        import importlib

        return importlib.import_module(f"bextoolkit.{name}")
    if name == "Sandbox":  # lazy: the sandbox brings asyncssh and servers
        from bextoolkit.sandbox import Sandbox

        return Sandbox
    raise AttributeError(f"module 'bextoolkit' has no attribute {name!r}")
