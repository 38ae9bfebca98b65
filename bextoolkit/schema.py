"""The documented BEX vocabulary: columns, event and mailing types, formats, RRDE mapping.

Everything here is a constant other modules import; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import numpy as np
import pandas as pd

# --- job definitions ----------------------------------------------------------------------
EVENT_TYPES: Final = (
    "emailSend",
    "emailOpen",
    "emailClick",
    "emailOptOut",
    "emailSuppressed",
    "emailBounce",
)
MAILING_TYPES: Final = ("SendExperience", "Programs", "AMG", "AutoResponder", "ABTest")

#: Mailbox providers, in the order reports list them; every other domain is ``"other"``.
PROVIDERS: Final = ("Google", "Yahoo", "Microsoft", "Apple", "other")

#: Consumer mailbox domains (lower case) and their provider (domain.md section 9); reports
#: take another mapping as ``providers=``.
PROVIDER_DOMAINS: Final[Mapping[str, str]] = MappingProxyType({
    **dict.fromkeys(("gmail.com", "googlemail.com"), "Google"),
    **dict.fromkeys(
        (
            "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "yahoo.es", "yahoo.it",
            "yahoo.ca", "yahoo.com.au", "yahoo.co.in", "yahoo.co.jp", "ymail.com",
            "rocketmail.com", "aol.com", "aim.com", "verizon.net", "att.net", "sbcglobal.net",
        ),
        "Yahoo",
    ),
    **dict.fromkeys(
        (
            "outlook.com", "hotmail.com", "live.com", "msn.com", "hotmail.co.uk",
            "hotmail.fr", "hotmail.de", "hotmail.it", "hotmail.es", "live.co.uk", "live.fr",
            "outlook.de", "outlook.fr", "passport.com",
        ),
        "Microsoft",
    ),
    **dict.fromkeys(("icloud.com", "me.com", "mac.com"), "Apple"),
})  # fmt: skip


FILE_FORMATS: Final = ("CSV", "PSV", "TSV")
JOB_FREQUENCIES: Final = (1, 2, 3, 4, 6, 8, 12, 24)
CHANNEL_TYPES: Final = ("Email",)
DEFAULT_FILE_FORMAT: Final = "CSV"
DEFAULT_EXPORT_FILE_NAME: Final = "Recipient Event Bulk Export_"
MAX_DATABASE_COLUMNS: Final = 5

DELIMITERS: Final = {"CSV": ",", "PSV": "|", "TSV": "\t"}
EXTENSIONS: Final = {"CSV": ".csv", "PSV": ".psv", "TSV": ".tsv"}

# --- the export file ----------------------------------------------------------------------
#: The header of a BEX export file, in the documented order.
BEX_COLUMNS: Final = (
    "Email",
    "RECIPIENT_ID",
    "ENCODED_RECIPIENT_ID",
    "contactId",
    "code",
    "messageId",
    "userAgent",
    "messageName",
    "mailingTemplateId",
    "subjectLine",
    "docType",
    "reportId",
    "sendType",
    "bounceType",
    "urlDescription",
    "clickUrl",
    "optOutDetails",
    "messageGroupId",
    "programId",
    "timestamp",
    "originatedFrom",
    "eventId",
    "externalSystemName",
    "externalSystemReferenceId",
    "trackingCode",
)

#: The derived column holding the canonical event code, last in the events frame.
EVENT_TYPE_COLUMN: Final = "eventType"

#: Columns whose values are (nearly) unique per row: kept as strings.
UNIQUE_TEXT_COLUMNS: Final = (
    "Email",
    "RECIPIENT_ID",
    "ENCODED_RECIPIENT_ID",
    "contactId",
    "eventId",
)

#: Repetitive text (mailings, agents, links, codes): kept as ``category``.
CATEGORY_COLUMNS: Final = (
    *(c for c in BEX_COLUMNS if c not in UNIQUE_TEXT_COLUMNS and c != "timestamp"),
    EVENT_TYPE_COLUMN,
)

#: Columns that hold identifiers: always exact strings, never numbers.
ID_COLUMNS: Final = (
    "RECIPIENT_ID",
    "ENCODED_RECIPIENT_ID",
    "contactId",
    "messageId",
    "mailingTemplateId",
    "reportId",
    "messageGroupId",
    "programId",
    "eventId",
    "externalSystemReferenceId",
)

# --- the older RawRecipientDataExport (RRDE) ------------------------------------------------
RRDE_COLUMNS: Final = (
    "Recipient Id",
    "Recipient Type",
    "Mailing Id",
    "Report Id",
    "Campaign Id",
    "Email",
    "Event Type",
    "Event Timestamp",
    "Body Type",
    "Content Id",
    "Click Name",
    "URL",
    "Conversion Action",
    "Conversion Detail",
    "Conversion Amount",
    "Suppression Reason",
)

#: RRDE header -> events-frame column. RRDE columns not listed keep their own name.
RRDE_TO_BEX: Final = {
    "Recipient Id": "RECIPIENT_ID",
    "Mailing Id": "messageId",
    "Report Id": "reportId",
    "Email": "Email",
    "Event Type": EVENT_TYPE_COLUMN,
    "Event Timestamp": "timestamp",
    "Body Type": "docType",
    "Click Name": "urlDescription",
    "URL": "clickUrl",
}

#: Event codes of RRDE rows that BEX does not export (domain.md, section 6): a spam
#: complaint ("Reply Abuse"), and the other replies ("Reply Other", ...), whose exact
#: RRDE value stays in the ``code`` column.
COMPLAINT: Final = "emailComplaint"
REPLY: Final = "emailReply"
#: Every canonical ``eventType``: the six BEX event types, then the RRDE-only ones.
EVENT_CODES: Final = (*EVENT_TYPES, COMPLAINT, REPLY)

#: RRDE ``Event Type`` (trimmed, lower-cased) -> (eventType, bounceType), with the
#: spellings seen in public integrations (``Click Through`` is the real one). Values not
#: listed are kept as they are and reported (``attrs["unknown_event_types"]``).
RRDE_EVENT_TYPES: Final = {
    "sent": ("emailSend", None),
    "open": ("emailOpen", None),
    "click through": ("emailClick", None),
    "clickthrough": ("emailClick", None),
    "click": ("emailClick", None),
    "opt out": ("emailOptOut", None),
    "hard bounce": ("emailBounce", "Hard"),
    "soft bounce": ("emailBounce", "Soft"),
    "suppressed": ("emailSuppressed", None),
    "reply abuse": (COMPLAINT, None),
    "reply change address": (REPLY, None),
    "reply mail block": (REPLY, None),
    "reply mail restriction": (REPLY, None),
    "reply other": (REPLY, None),
}

#: RRDE ``Recipient Type`` of campaign recipients; other types (seed lists, inbox
#: monitoring) are kept but left out of funnels unless ``include_seeds=True``.
NORMAL_RECIPIENT_TYPE: Final = "Normal"
RECIPIENT_TYPE_COLUMN: Final = "Recipient Type"


def sorted_categorical(col: pd.Series, values_dtype: str | None) -> pd.Series:
    """``col`` as a category of only the values it uses, sorted (values of ``values_dtype``)."""
    if not isinstance(col.dtype, pd.CategoricalDtype):
        col = col.astype("category")
    cats = col.cat.categories
    codes = col.cat.codes.to_numpy()
    used = np.flatnonzero(np.bincount(codes[codes >= 0], minlength=len(cats)))  # O(rows)
    wanted = cats[used].sort_values() if len(used) else cats[:0]
    if values_dtype is not None and str(wanted.dtype) != values_dtype:
        wanted = wanted.astype(values_dtype)
    if wanted.equals(cats) and wanted.dtype == cats.dtype:
        return col
    if len(wanted) == 0:
        codes = np.full(len(col), -1, dtype=np.int8)
        return pd.Series(
            pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(wanted)),
            index=col.index,
            name=col.name,
        )
    if len(wanted) == len(cats) and wanted.dtype == cats.dtype:
        return col.cat.reorder_categories(wanted)  # astype() would keep the old order
    return col.cat.set_categories(wanted)
