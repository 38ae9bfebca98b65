"""Mailbox providers: which company's servers an e-mail domain's mail lands on.

Gmail, Yahoo and Microsoft publish rules for bulk senders (domain.md section 9) that apply
to their consumer domains; :data:`PROVIDER_DOMAINS` maps those domains to the provider.
Corporate domains hosted by the same companies (Google Workspace, Microsoft 365) cannot be
told apart from the domain alone and stay ``"other"``: their rules are not the consumer ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

import numpy as np
import pandas as pd

from bextoolkit import schema

__all__ = ["PROVIDERS", "PROVIDER_DOMAINS", "provider_of"]

#: The providers, in the order reports list them; every other domain is ``"other"``.
PROVIDERS: Final = schema.PROVIDERS

#: Consumer mailbox domains of each provider (lower case). Pass your own mapping as
#: ``providers=`` to any report that takes it, e.g. ``{**PROVIDER_DOMAINS, "web.de": "GMX"}``.
PROVIDER_DOMAINS: Final = schema.PROVIDER_DOMAINS


def provider_of(domains: pd.Series, providers: Mapping[str, str] | None = None) -> pd.Series:
    """The mailbox provider of each domain (``"other"`` when unknown, missing when missing).

    Parameters
    ----------
    domains : Series
        E-mail domains (any case; the part after ``@``).
    providers : mapping of str to str, optional
        Domain -> provider; default :data:`PROVIDER_DOMAINS`. Keys are matched lower-cased.

    Returns
    -------
    Series
        Category, with the providers of ``providers`` first in :data:`PROVIDERS` order,
        then any others, then ``"other"``.

    Examples
    --------
    >>> provider_of(pd.Series(["gmail.com", "Hotmail.com", "example.org", None])).tolist()
    ['Google', 'Microsoft', 'other', nan]
    """
    table = {str(d).strip().lower(): p for d, p in (providers or PROVIDER_DOMAINS).items()}
    named = [p for p in dict.fromkeys([*PROVIDERS, *table.values()]) if p != "other"]
    order = pd.Index([*named, "other"])
    if not isinstance(domains.dtype, pd.CategoricalDtype):
        domains = domains.astype("category")
    mapped = [table.get(str(d).strip().lower(), "other") for d in domains.cat.categories]
    lookup = np.append(order.get_indexer(pd.Index(mapped)), -1)  # code -1 (missing) stays missing
    codes = lookup[domains.cat.codes.to_numpy()]
    values = pd.Categorical.from_codes(codes, categories=order)
    return pd.Series(values, index=domains.index, name="provider")
