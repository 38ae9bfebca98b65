"""bextoolkit: Acoustic Campaign Bulk Event Export (BEX) in Jupyter.

Build and manage BEX job definitions, load the exported event files into pandas from
anywhere fsspec reaches, and answer campaign questions with reports and plots.
"""

from __future__ import annotations

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
from bextoolkit.schema import (
    BEX_COLUMNS,
    EVENT_TYPES,
    FILE_FORMATS,
    JOB_FREQUENCIES,
    MAILING_TYPES,
)

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
    "__version__",
]
