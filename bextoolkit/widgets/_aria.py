"""Accessible names and states that ipywidgets cannot set: messages tied to their fields.

ipywidgets gives an ``<input>`` no ``aria-describedby`` or ``aria-invalid`` and a status
line no ``aria-live``. :class:`AriaLinks` is an invisible widget placed inside a form; in
the browser it finds the form's inputs and message boxes by their CSS classes and sets
those attributes, again whenever the form's rows change. The kernel side only says which
field is invalid, so headless tests read :attr:`AriaLinks.links`.
"""

from __future__ import annotations

from collections.abc import Iterable

import anywidget
import ipywidgets as w
import traitlets

_ESM = """
let counter = 0;
const prefix = "bex-aria-" + Math.random().toString(36).slice(2, 8) + "-";

function render({ model, el }) {
  let root = null;
  const apply = () => {
    if (!root) return;
    for (const link of model.get("links")) {
      const field = root.querySelector(link.field);
      const message = root.querySelector(link.message);
      const input = field && field.querySelector("input, select, textarea");
      if (!input || !message) continue;
      if (!message.id) message.id = prefix + (++counter);
      input.setAttribute("aria-describedby", message.id);
      input.setAttribute("aria-invalid", link.invalid ? "true" : "false");
      if (link.required) input.setAttribute("aria-required", "true");
    }
    for (const selector of model.get("live")) {
      const region = root.querySelector(selector);
      if (region && region.getAttribute("aria-live") !== "polite") {
        region.setAttribute("role", "status");
        region.setAttribute("aria-live", "polite");
      }
    }
  };
  const observer = new MutationObserver(apply);  // column rows come and go
  const start = () => {
    root = el.closest(model.get("root"));
    if (!root) return void requestAnimationFrame(start);  // not in the page yet
    apply();
    observer.observe(root, { childList: true, subtree: true });
  };
  model.on("change:links", apply);
  start();
  return () => observer.disconnect();
}
export default { render };
"""


class AriaLinks(anywidget.AnyWidget):
    """Ties each field of the form around it to its message box, and marks live regions.

    Parameters
    ----------
    root : str
        CSS selector of the form this widget sits in (``".bex-job-form"``).
    live : iterable of str
        CSS selectors of the status lines to announce (``role="status"``,
        ``aria-live="polite"``).

    Attributes
    ----------
    links : list of dict
        One per field: ``field`` and ``message`` (CSS selectors of the field's widget and of
        its message box), ``invalid`` (bool: ``aria-invalid``) and ``required`` (bool).
    """

    _esm = _ESM
    root = traitlets.Unicode("").tag(sync=True)
    live = traitlets.List(traitlets.Unicode()).tag(sync=True)
    links = traitlets.List(traitlets.Dict()).tag(sync=True)

    def __init__(self, root: str, live: Iterable[str] = ()) -> None:
        super().__init__(root=root, live=list(live), layout=w.Layout(display="none"))

    def link(self, fields: Iterable[tuple[str, str, bool, bool]]) -> None:
        """Set the links: ``(field, message, invalid, required)`` selectors and states."""
        links = [
            {"field": f, "message": m, "invalid": invalid, "required": required}
            for f, m, invalid, required in fields
        ]
        if links != self.links:
            self.links = links
