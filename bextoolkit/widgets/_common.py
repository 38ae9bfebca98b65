"""Small pieces every bextoolkit widget shares: status lines, field messages, CSS names.

Plain functions that turn results and errors into short, escaped HTML, so the widgets stay
thin and the wording is tested without a browser. Nothing here ever formats a secret: the
error text comes from :class:`~bextoolkit.exceptions.BexError` instances, which hold none.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any, TypeVar

import ipywidgets as w

from bextoolkit.exceptions import BexAPIError, BexError

#: Colours of the status kinds, readable on light and dark notebook themes.
_STATUS_COLOURS = {"ok": "#1a7f37", "error": "#cf222e", "info": "#57606a", "busy": "#9a6700"}

#: Width of the descriptions on the left of every input, so the inputs line up.
DESCRIPTION_STYLE = {"description_width": "11em"}
#: Width of a full-width input, description included.
FIELD_WIDTH = "34em"

WidgetT = TypeVar("WidgetT", bound=w.DOMWidget)


def status_html(kind: str, text: str) -> str:
    """One status line as escaped HTML with a CSS class tests and styles can find.

    Parameters
    ----------
    kind : {"ok", "error", "info", "busy"}
    text : the message, plain text (it is escaped here).

    Examples
    --------
    >>> status_html("ok", "Created job definition 7 <new>")
    '<span class="bex-status-ok" style="color: #1a7f37">Created job definition 7 &lt;new&gt;</span>'
    """
    colour = _STATUS_COLOURS.get(kind, _STATUS_COLOURS["info"])
    return f'<span class="bex-status-{kind}" style="color: {colour}">{html.escape(text)}</span>'


def messages_html(messages: Iterable[str]) -> str:
    """Field messages as small red lines, or ``""`` when there are none.

    Examples
    --------
    >>> messages_html([])
    ''
    >>> messages_html(["required"])
    '<div class="bex-field-message" style="color: #cf222e; font-size: 90%">required</div>'
    """
    return "".join(
        f'<div class="bex-field-message" style="color: {_STATUS_COLOURS["error"]}; '
        f'font-size: 90%">{html.escape(m)}</div>'
        for m in messages
    )


def error_text(exc: BaseException) -> str:
    """What a person should read about a failed call: the server's words where there are some.

    Examples
    --------
    >>> from bextoolkit.exceptions import BexNotFoundError
    >>> error_text(BexNotFoundError("no job 9", method="GET", url="http://h/x", status=404))
    'The server answered 404: no job 9'
    >>> error_text(ValueError("bad"))
    'Unexpected error (ValueError): bad'
    """
    if isinstance(exc, BexAPIError):
        status = f"{exc.status}" if exc.status is not None else "an error"
        return f"The server answered {status}: {exc.message}"
    if isinstance(exc, BexError):
        return str(exc)
    return f"Unexpected error ({type(exc).__name__}): {exc}"


def named(widget: WidgetT, *css_classes: str) -> WidgetT:
    """Add CSS classes to ``widget`` (stable names for browser tests and styling); return it."""
    for css_class in css_classes:
        widget.add_class(css_class)
    return widget


def field(
    widget_type: type[WidgetT], css_class: str, *, width: str = FIELD_WIDTH, **options: Any
) -> WidgetT:
    """An input with the shared description width, ``width`` wide, named ``css_class``."""
    widget = widget_type(style=DESCRIPTION_STYLE, layout=w.Layout(width=width), **options)
    return named(widget, css_class)


def message_box(css_class: str) -> w.HTML:
    """An empty HTML widget that holds the messages about one field."""
    return named(w.HTML(value=""), "bex-msg", css_class)


def show(widget: w.DOMWidget, visible: bool) -> None:
    """Show or hide a widget without removing it from its parent."""
    widget.layout.display = None if visible else "none"
