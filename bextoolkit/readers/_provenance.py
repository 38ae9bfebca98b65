"""Provenance kept in ``DataFrame.attrs`` that pandas can carry along cheaply.

pandas deep-copies ``attrs`` into every frame and column derived from a frame. With the
thousands of files of a year of hourly exports, copying the list of files cost about
30 ms on every ``events[column]``. These lists are shared instead of copied: provenance
says where the data came from and is not edited afterwards.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any


class SharedList(list[Any]):
    """A list that ``copy.deepcopy`` shares rather than copies."""

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedList:
        return self


def provenance(
    *,
    files: list[dict[str, Any]],
    duplicates_dropped: int,
    skipped_lines: list[dict[str, Any]],
    **more: Any,
) -> dict[Hashable, Any]:
    """The ``attrs`` of an events frame: files read, duplicates dropped, lines skipped.

    >>> import copy
    >>> attrs = provenance(files=[{"path": "a.csv", "rows": 3}], duplicates_dropped=0,
    ...                    skipped_lines=[])
    >>> copy.deepcopy(attrs)["files"] is attrs["files"]
    True
    """
    attrs: dict[Hashable, Any] = {
        "files": SharedList(files),
        "duplicates_dropped": duplicates_dropped,
        "skipped_lines": SharedList(skipped_lines),
    }
    attrs.update(more)
    return attrs
