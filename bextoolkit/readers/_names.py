"""Column names unique ignoring case, as every engine reading the synced table needs.

Delta, DuckDB, Spark and Hive match column names without case, so ``contactId`` (a BEX
column) and a requested database column ``ContactID`` (RRDE) cannot both be columns of
one table. The name seen first keeps its spelling; a later name equal to it only ignoring
case is kept under ``<name>_2`` (``_3``, ... if that is taken too), and the reader records
the renaming in ``attrs["files"][i]["renamed"]``. The documented BEX columns, ``eventType``
and the store's partition column ``event_date`` are always seen first.
"""

from __future__ import annotations

from collections.abc import Iterable

from bextoolkit import schema

#: Names that are always taken in their own spelling.
RESERVED = (*schema.BEX_COLUMNS, schema.EVENT_TYPE_COLUMN, "event_date")


class CaseRegistry:
    """The spelling each name (ignoring case) has been given so far.

    Examples
    --------
    >>> names = CaseRegistry()
    >>> names.renames(["Email", "ContactID", "Country", "COUNTRY"])
    {'ContactID': 'ContactID_2', 'COUNTRY': 'COUNTRY_2'}
    >>> names.renames(["COUNTRY", "country"])  # the same spelling, the same name
    {'COUNTRY': 'COUNTRY_2', 'country': 'country_3'}
    """

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._spelled: dict[str, str] = {}
        self._given: dict[str, str] = {}  # a clashing spelling -> the name it was given
        for name in (*RESERVED, *taken):
            self._spelled.setdefault(name.lower(), name)

    def renames(self, names: Iterable[str]) -> dict[str, str]:
        """``{name: new name}`` for the names that clash with an earlier spelling."""
        out: dict[str, str] = {}
        for name in names:
            first = self._spelled.setdefault(name.lower(), name)
            if first == name:
                continue
            if name in self._given:
                out[name] = self._given[name]
                continue
            n = 2
            while f"{name}_{n}".lower() in self._spelled:
                n += 1
            out[name] = self._given[name] = f"{name}_{n}"
            self._spelled[out[name].lower()] = out[name]
        return out
