"""What ipywidgets cannot do for a keyboard or screen-reader user, done in the browser.

ipywidgets gives an ``<input>`` no ``aria-describedby`` or ``aria-invalid``, a status line
no ``aria-live``, a row of widgets no table role; it moves no focus after an action, and
inside JupyterLab the keys pressed on a button or a dropdown bubble up to the notebook,
which reads them as its own commands (``m`` turns a cell into Markdown, arrows change
cells). :class:`AriaLinks` is an invisible widget placed inside a form; in the browser it
finds the form's parts by their CSS classes and

- ties each field to its message box (``aria-describedby``, ``aria-invalid``,
  ``aria-required``) and marks the live regions, again whenever the form's rows change;
- sets further attributes by selector (roles, labels, ``tabindex``);
- keeps every key pressed inside the form in the form (only keys with Ctrl, Alt or Meta,
  and Shift+Enter, reach the notebook); Escape inside an open dialog presses its cancel
  button;
- moves the focus where the kernel asks (:meth:`AriaLinks.move_focus`), once the target is
  shown and enabled;
- copies a text to the clipboard when its button is pressed, and tells the kernel how
  that went (:meth:`AriaLinks.on_copied`).

The kernel side only says what should happen, so headless tests read the traits and
:attr:`AriaLinks.focused`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import anywidget
import ipywidgets as w
import traitlets

_ESM = """
let counter = 0;
const prefix = "bex-aria-" + Math.random().toString(36).slice(2, 8) + "-";
const FOCUSABLE = "input, select, textarea, button";

function visible(node) {
  return node.isConnected && node.getClientRects().length > 0;
}

function render({ model, el }) {
  let root = null;
  const apply = () => {
    if (!root) return;
    for (const link of model.get("links")) {
      const field = root.querySelector(link.field);
      const message = root.querySelector(link.message);
      const input = field && (field.matches(FOCUSABLE) ? field : field.querySelector(FOCUSABLE));
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
    for (const rule of model.get("attributes")) {
      for (const node of root.querySelectorAll(rule.selector)) {
        for (const [name, value] of Object.entries(rule.attributes)) {
          if (value === null) node.removeAttribute(name);
          else if (node.getAttribute(name) !== value) node.setAttribute(name, value);
        }
      }
    }
  };
  // Keys used inside the form stay in it: JupyterLab listens on the document (bubbling).
  const keep = (event) => {
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    if (event.key === "Escape") {
      for (const [box, button] of model.get("escape")) {
        const open = [...root.querySelectorAll(box)].find(visible);
        const cancel = open && open.querySelector(button);
        if (cancel && !cancel.disabled) {
          cancel.click();
          event.preventDefault();
          break;
        }
      }
    }
    if (event.shiftKey && event.key === "Enter") return;  // run the cell, as anywhere
    event.stopPropagation();
  };
  const focusWhenShown = (selector, tries) => {
    const target = root && root.querySelector(selector);
    const input = target && (target.matches(FOCUSABLE) ? target
      : target.querySelector(FOCUSABLE) || target);
    if (input && !input.disabled && visible(input)) {
      if (!input.matches(FOCUSABLE) && !input.hasAttribute("tabindex")) {
        input.setAttribute("tabindex", "-1");  // a status line: focusable by script only
      }
      input.focus();
      return;
    }
    if (tries > 0) setTimeout(() => focusWhenShown(selector, tries - 1), 50);
  };
  const copy = async (event) => {
    for (const [button, source] of model.get("copies")) {
      if (!event.target.closest(button)) continue;
      const text = root.querySelector(source);
      try {
        await navigator.clipboard.writeText(text ? text.textContent : "");
        model.send({ copied: true });
      } catch (error) {
        model.send({ copied: false, reason: String(error && error.name || error) });
      }
    }
  };
  const onMessage = (msg) => {
    if (msg && msg.focus) focusWhenShown(msg.focus, 40);
  };
  const observer = new MutationObserver(apply);
  const start = () => {
    root = el.closest(model.get("root"));
    if (!root) return void requestAnimationFrame(start);  // not in the page yet
    apply();
    // rows come and go, and a new widget gets its CSS classes after it is in the page
    observer.observe(root, { childList: true, subtree: true, attributeFilter: ["class"] });
    root.addEventListener("keydown", keep);
    root.addEventListener("click", copy);
  };
  model.on("change:links", apply);
  model.on("change:attributes", apply);
  model.on("msg:custom", onMessage);
  start();
  return () => {
    observer.disconnect();
    model.off("msg:custom", onMessage);
    if (root) {
      root.removeEventListener("keydown", keep);
      root.removeEventListener("click", copy);
    }
  };
}
export default { render };
"""

CopiedCallback = Callable[[bool, str], Any]


class AriaLinks(anywidget.AnyWidget):
    """Ties the fields of the form around it to their messages; keeps its keys; moves focus.

    Parameters
    ----------
    root : str
        CSS selector of the form this widget sits in (``".bex-job-form"``).
    live : iterable of str
        CSS selectors of the status lines to announce (``role="status"``,
        ``aria-live="polite"``).
    attributes : mapping, optional
        CSS selector -> ``{attribute: value}`` set on every match (``None`` removes it),
        again whenever the form's rows change: roles, ``aria-label``, ``tabindex``.
    escape : iterable of (str, str), optional
        ``(dialog, button)`` selectors: Escape pressed in the form while ``dialog`` is
        shown presses its ``button``.
    copy : iterable of (str, str), optional
        ``(button, source)`` selectors: pressing ``button`` copies the text of ``source``.

    Attributes
    ----------
    links : list of dict
        One per field: ``field`` and ``message`` (CSS selectors of the field's widget and of
        its message box), ``invalid`` (bool: ``aria-invalid``) and ``required`` (bool).
    focused : str or None
        The selector last asked to take the focus (what headless tests check).
    """

    _esm = _ESM
    root = traitlets.Unicode("").tag(sync=True)
    live = traitlets.List(traitlets.Unicode()).tag(sync=True)
    links = traitlets.List(traitlets.Dict()).tag(sync=True)
    attributes = traitlets.List(traitlets.Dict()).tag(sync=True)
    escape = traitlets.List(traitlets.List(traitlets.Unicode())).tag(sync=True)
    copies = traitlets.List(traitlets.List(traitlets.Unicode())).tag(sync=True)

    def __init__(
        self,
        root: str,
        live: Iterable[str] = (),
        *,
        attributes: Mapping[str, Mapping[str, str | None]] | None = None,
        escape: Iterable[tuple[str, str]] = (),
        copy: Iterable[tuple[str, str]] = (),
    ) -> None:
        super().__init__(
            root=root,
            live=list(live),
            attributes=[
                {"selector": selector, "attributes": dict(values)}
                for selector, values in (attributes or {}).items()
            ],
            escape=[list(pair) for pair in escape],
            copies=[list(pair) for pair in copy],
            layout=w.Layout(display="none"),
        )
        self.focused: str | None = None
        self._copied: list[CopiedCallback] = []
        self.on_msg(self._on_browser_message)

    def link(self, fields: Iterable[tuple[str, str, bool, bool]]) -> None:
        """Set the links: ``(field, message, invalid, required)`` selectors and states."""
        links = [
            {"field": f, "message": m, "invalid": invalid, "required": required}
            for f, m, invalid, required in fields
        ]
        if links != self.links:
            self.links = links

    def move_focus(self, selector: str) -> None:
        """Move the browser's focus to ``selector`` in the form, once it is shown and enabled.

        An input, select or button inside the match takes it; a status line is made
        focusable (``tabindex="-1"``) so a screen reader reads it out.
        """
        self.focused = selector
        self.send({"focus": selector})

    def on_copied(self, callback: CopiedCallback) -> None:
        """Call ``callback(ok, reason)`` when the browser has copied (or failed to copy)."""
        self._copied.append(callback)

    def _on_browser_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and "copied" in content:
            for callback in list(self._copied):
                callback(bool(content["copied"]), str(content.get("reason", "")))
