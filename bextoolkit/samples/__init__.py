"""Synthetic campaigns: seeded events in the events-frame shape, written as BEX or RRDE files.

:mod:`.campaigns` simulates a database and its mailings and writes them as export files;
:mod:`.delimited` is the one writer of delimited text (also used by the sandbox);
:mod:`._simulation` and :mod:`._data` hold the simulation and its value pools;
:mod:`._account` (with :mod:`._plants` and :mod:`._sends`) the realistic account
(``generate_campaign(realistic=True)``): months of mailings to one list with suppression,
daily programs, complaints and planted faults.
"""

from __future__ import annotations

from bextoolkit.samples.campaigns import (
    DATABASE_COLUMNS,
    HOUR_ENGAGEMENT,
    PLANTED_COLUMNS,
    PROVIDER_DOMAINS,
    PROVIDERS,
    TYPE_ENGAGEMENT,
    Campaign,
    ComplaintSurge,
    export_file_name,
    generate_campaign,
    generate_events,
    mailing_type_of,
    write_campaign,
    write_exports,
    write_rrde,
    write_samples,
)

__all__ = [
    "DATABASE_COLUMNS",
    "HOUR_ENGAGEMENT",
    "PLANTED_COLUMNS",
    "PROVIDERS",
    "PROVIDER_DOMAINS",
    "TYPE_ENGAGEMENT",
    "Campaign",
    "ComplaintSurge",
    "export_file_name",
    "generate_campaign",
    "generate_events",
    "mailing_type_of",
    "write_campaign",
    "write_exports",
    "write_rrde",
    "write_samples",
]
