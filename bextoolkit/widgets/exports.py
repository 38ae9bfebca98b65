"""``ExportBrowser``: see the export files of a folder, pick some, load them into pandas."""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import ipywidgets as w
import pandas as pd

from bextoolkit.exceptions import BexConfigError, redact
from bextoolkit.widgets._common import DESCRIPTION_STYLE, error_text, named, show, status_html
from bextoolkit.widgets._exports_logic import between_dates, file_label, load_summary

if TYPE_CHECKING:
    from bextoolkit.client import BexClient

log = logging.getLogger(__name__)

LoadCallback = Callable[[pd.DataFrame], Any]


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
        With ``client`` and no ``urlpath``: the ``download/`` folder of the pod's SFTP host.
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
        The events of the last load.
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
        if urlpath is None:
            if client is None:
                raise BexConfigError("give the folder to browse (urlpath=) or a client= to use")
            urlpath = _download_url(client)
        self.urlpath = urlpath
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
            w.SelectMultiple(
                options=[],
                rows=10,
                layout=w.Layout(width="100%"),
            ),
            "bex-export-files",
        )
        self._count = named(w.HTML(), "bex-export-count")
        self._refresh = named(w.Button(description="Refresh list"), "bex-export-refresh")
        self._select_all = named(w.Button(description="Select all shown"), "bex-export-select-all")
        self._load = named(
            w.Button(description="Load selected", button_style="primary"), "bex-export-load"
        )
        self._progress = named(w.Output(), "bex-export-progress")
        self._status = named(w.HTML(), "bex-export-status")
        self._counts = named(w.HTML(), "bex-export-event-counts")
        show(self._progress, False)
        super().__init__(
            [
                w.HTML(
                    "<h3 style='margin: 0.2em 0'>Export files in "
                    f"<code>{html.escape(redact(str(urlpath)))}</code></h3>"
                ),
                w.HBox([self._start, self._end]),
                self._count,
                self._files,
                w.HBox([self._refresh, self._select_all, self._load]),
                self._progress,
                self._status,
                self._counts,
            ]
        )
        named(self, "bex-export-browser")
        self._start.observe(lambda _: self._show_files(), names="value")
        self._end.observe(lambda _: self._show_files(), names="value")
        self._files.observe(lambda _: self._refresh_buttons(), names="value")
        self._refresh.on_click(lambda _: self.refresh())
        self._select_all.on_click(lambda _: self._select_shown())
        self._load.on_click(lambda _: self.load())
        self.refresh()

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

        try:
            self.files = list_exports(self.urlpath, storage_options=self._login())
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
        )
        self._refresh_buttons()

    def _select_shown(self) -> None:
        self._files.value = tuple(value for _, value in self._files.options)

    def _refresh_buttons(self) -> None:
        self._load.disabled = self._busy or not self._files.value
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
            return None
        finally:
            self._busy = False
            self._refresh_buttons()
        self.events = events
        self._say("ok", load_summary(events))
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


def _download_url(client: BexClient) -> str:
    """``sftp://<transfer host>:<port>/download/`` of the client's pod."""
    if not client.sftp_host:
        client.sftp_storage_options()  # raises the error that says how to name the host
    return f"sftp://{client.sftp_host}:{client.sftp_port}/download/"


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
