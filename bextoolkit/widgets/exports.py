"""``ExportBrowser``: see the export files of a folder, pick some, load them into pandas."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import pandas as pd

from bextoolkit.exceptions import redact
from bextoolkit.widgets._aria import AriaLinks
from bextoolkit.widgets._common import DESCRIPTION_STYLE, error_text, named, show, status_html
from bextoolkit.widgets._exports_logic import between_dates, file_label, load_summary

if TYPE_CHECKING:
    from bextoolkit.client import BexClient

log = logging.getLogger(__name__)

LoadCallback = Callable[[pd.DataFrame], Any]
_STATUS = ".bex-export-status"
_NOT_CONNECTED = (
    "Not connected: connect first (ConnectForm, then connect.on_connect(browser.set_client)), "
    "or give a folder: ExportBrowser('download/')."
)


class ExportBrowser(w.VBox):
    """The export files of a folder (local or any fsspec URL such as ``sftp://``), loadable.

    Lists the files with the parts parsed from their names (window end, frequency, format,
    compression), sizes and times; filters them by date; loads the selected ones with
    :func:`~bextoolkit.read_events` and a progress bar into :attr:`events`, and
    says how many rows were loaded, duplicates dropped and lines skipped.

    Parameters
    ----------
    urlpath : str, optional
        A folder, glob or URL, as :func:`~bextoolkit.readers.files.list_exports` takes it.
        With ``client`` (or :meth:`set_client` later) and no ``urlpath``: the ``download/``
        folder of the pod's SFTP host; until then the browser says to connect first.
    storage_options : dict, optional
        Passed to fsspec (e.g. ``{"username": ..., "password": ...}`` for SFTP); never shown.
    client : BexClient, optional
        Log in to SFTP as user ``oauth`` with the client's current access token
        (:meth:`~bextoolkit.client.BexClient.sftp_storage_options`), so the OAuth
        application serves the files too; used when ``storage_options`` is not given.
    **read_options
        Extra keyword arguments for :func:`~bextoolkit.read_events`.

    Attributes
    ----------
    events : pandas.DataFrame or None
        The events of the last load (the status line says so after each load).
    files : pandas.DataFrame
        The listing (all files, before the date filter).

    Examples
    --------
    >>> browser = ExportBrowser("data-samples/")  # doctest: +SKIP
    >>> browser.on_load(lambda events: print(len(events)))  # doctest: +SKIP
    """

    def __init__(
        self,
        urlpath: str | None = None,
        storage_options: Mapping[str, Any] | None = None,
        *,
        client: BexClient | None = None,
        **read_options: Any,
    ) -> None:
        self._follows_client = urlpath is None
        self.urlpath = urlpath or ""
        self.storage_options = dict(storage_options or {})
        self._client = client if storage_options is None else None
        self.events: pd.DataFrame | None = None
        self.files = pd.DataFrame()
        self._read_options = {"on_bad_lines": "skip", **read_options}
        self._callbacks: list[LoadCallback] = []
        self._busy = False

        self._start = named(
            w.DatePicker(description="From", style=DESCRIPTION_STYLE), "bex-export-from"
        )
        self._end = named(w.DatePicker(description="To", style=DESCRIPTION_STYLE), "bex-export-to")
        self._files = named(
            w.SelectMultiple(options=[], rows=10, layout=w.Layout(width="100%")),
            "bex-export-files",
        )
        self._heading = w.HTML()
        self._count = named(w.HTML(), "bex-export-count")
        self._refresh = named(w.Button(description="Refresh list"), "bex-export-refresh")
        self._select_all = named(w.Button(description="Select all shown"), "bex-export-select-all")
        self._load = named(
            w.Button(description="Load selected", button_style="primary"), "bex-export-load"
        )
        self._progress = named(w.Output(), "bex-export-progress")
        self._status = named(w.HTML(), "bex-export-status")
        self._counts = named(w.HTML(), "bex-export-event-counts")
        self._aria = AriaLinks(
            ".bex-export-browser",
            live=(_STATUS, ".bex-export-count"),
            attributes={
                ".bex-export-files select": {"aria-label": "Export files (select one or more)"}
            },
        )
        show(self._progress, False)
        super().__init__(
            [
                self._heading,
                w.HBox([self._start, self._end]),
                self._count,
                self._files,
                w.HBox([self._refresh, self._select_all, self._load]),
                self._progress,
                self._status,
                self._counts,
                self._aria,
            ]
        )
        named(self, "bex-export-browser")
        self._start.observe(lambda _: self._show_files(), names="value")
        self._end.observe(lambda _: self._show_files(), names="value")
        self._files.observe(lambda _: self._refresh_buttons(), names="value")
        self._refresh.on_click(lambda _: self.refresh())
        self._select_all.on_click(lambda _: self._select_shown())
        self._load.on_click(lambda _: self.load())
        self.set_client(self._client) if self._follows_client else self.refresh()

    def set_client(self, client: BexClient | None) -> None:
        """Follow ``client`` (``ConnectForm.on_connect(browser.set_client)``): list the
        ``download/`` folder of its SFTP host, logged in with its token; ``None`` empties
        the list. A browser given a ``urlpath`` keeps its folder and only logs in anew."""
        self._client = client
        if not self._follows_client:
            self.refresh()
            return
        self.urlpath = ""
        if client is None:
            self._say("info", _NOT_CONNECTED)
        elif not client.sftp_host:
            self._say(
                "error",
                f"The SFTP host of {client.base_url} is not known: fill in SFTP host on the "
                "ConnectForm and press Connect (or give urlpath= and storage_options=).",
            )
        else:
            self.urlpath = f"sftp://{client.sftp_host}:{client.sftp_port}/download/"
        if self.urlpath:
            self.refresh()
        else:
            self.files = pd.DataFrame()
            self._show_files()

    # -- the listing ----------------------------------------------------------------------------
    @property
    def shown(self) -> pd.DataFrame:
        """The files that pass the date filter, as rows of :attr:`files`."""
        if self.files.empty:
            return self.files
        return between_dates(self.files, self._start.value, self._end.value)

    @property
    def selected(self) -> list[str]:
        """The paths of the selected files."""
        return list(self._files.value)

    def select(self, paths: list[str]) -> None:
        """Select files by path (those not shown are ignored)."""
        shown = {value for _, value in self._files.options}
        self._files.value = tuple(p for p in paths if p in shown)

    def refresh(self) -> None:
        """List the folder again."""
        from bextoolkit.readers import list_exports

        where = html.escape(redact(self.urlpath)) if self.urlpath else "(not connected)"
        self._heading.value = (
            f"<h3 style='margin: 0.2em 0'>Export files in <code>{where}</code></h3>"
        )
        if not self.urlpath:
            return
        try:
            self.files = list_exports(self.urlpath, storage_options=self._login())
            self._status.value = ""  # an earlier error no longer holds
        except Exception as exc:  # a missing folder or a refused login: shown, not raised
            log.info("listing %s failed: %s", redact(str(self.urlpath)), exc)
            self.files = pd.DataFrame()
            self._say("error", error_text(exc))
        self._show_files()

    def _show_files(self) -> None:
        shown = self.shown
        kept = set(self._files.value)
        options = [(file_label(row), str(row["path"])) for _, row in shown.iterrows()]
        self._files.options = options
        self._files.value = tuple(v for _, v in options if v in kept)
        total = len(self.files)
        self._count.value = (
            f"<i>{len(shown)} of {total} file{'s' if total != 1 else ''} shown"
            " (window end in UTC; pick a date range to narrow)</i>"
            + unselected_note(len(kept) - len(self._files.value))
        )
        self._refresh_buttons()

    def _select_shown(self) -> None:
        self._files.value = tuple(value for _, value in self._files.options)

    def _refresh_buttons(self) -> None:
        chosen = len(self._files.value)
        self._load.description = f"Load selected ({chosen})" if chosen else "Load selected"
        self._load.disabled = self._busy or not chosen
        self._refresh.disabled = self._busy
        self._select_all.disabled = self._busy or not self._files.options

    # -- loading --------------------------------------------------------------------------------
    def on_load(self, callback: LoadCallback, *, remove: bool = False) -> None:
        """Call ``callback(events)`` after each successful load."""
        if remove:
            self._callbacks.remove(callback)
        else:
            self._callbacks.append(callback)

    def load(self, paths: list[str] | None = None) -> pd.DataFrame | None:
        """Read the selected files (or ``paths``) into :attr:`events`; None when it failed."""
        from bextoolkit.readers import read_events

        paths = list(paths if paths is not None else self._files.value)
        if not paths or self._busy:
            return None
        self._busy = True
        self._refresh_buttons()
        self._progress.clear_output()
        show(self._progress, True)
        self._say("busy", f"Loading {len(paths)} file{'s' if len(paths) != 1 else ''}…")
        try:
            with self._progress:  # read_events draws its progress bar (tqdm) in here
                events = read_events(
                    paths,
                    storage_options=self._login(),
                    progress=True,
                    **self._read_options,
                )
        except Exception as exc:
            log.info("loading failed: %s", exc)
            self._say("error", error_text(exc))
            self._aria.move_focus(_STATUS)
            return None
        finally:
            self._busy = False
            self._refresh_buttons()
        self.events = events
        self._say("ok", load_summary(events) + " The events are in this browser's .events.")
        self._aria.move_focus(_STATUS)
        self._counts.value = _event_counts_html(events)
        for callback in list(self._callbacks):
            callback(events)
        return events

    def _say(self, kind: str, text: str) -> None:
        self._status.value = status_html(kind, text)

    def _login(self) -> dict[str, Any]:
        """The storage options: the client's SFTP login (a fresh token each time), or given."""
        if self._client is not None:
            return self._client.sftp_storage_options()
        return self.storage_options


def unselected_note(count: int) -> str:
    """What the count line adds when the date filter hid selected files ("" when none).

    Examples
    --------
    >>> unselected_note(0), unselected_note(2)
    ('', '<b> 2 selected files are outside these dates and were unselected.</b>')
    """
    if count <= 0:
        return ""
    files = "file is" if count == 1 else "files are"
    return f"<b> {count} selected {files} outside these dates and were unselected.</b>"


def _event_counts_html(events: pd.DataFrame) -> str:
    if "eventType" not in events or events.empty:
        return ""
    counts = events["eventType"].astype("string").value_counts(dropna=False)
    rows = "".join(
        f"<tr><td style='text-align:left'>{html.escape(str(k))}</td>"
        f"<td style='text-align:right'>{v:,}</td></tr>"
        for k, v in counts.items()
    )
    return f"<table><tr><th>eventType</th><th>rows</th></tr>{rows}</table>"
