"""Sphinx configuration: the API reference of bextoolkit, built from its numpydoc docstrings.

Build it with ``sphinx-build -W -b html docs docs/_build/html`` (warnings are errors, as in CI).
"""

from __future__ import annotations

import bextoolkit

project = "bextoolkit"
author = "bextoolkit contributors"
copyright = "bextoolkit contributors"
release = version = getattr(bextoolkit, "__version__", "0.1.0")

extensions = ["sphinx.ext.autodoc", "numpydoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# The signatures show the annotations; the numpydoc sections say the rest. Members are
# listed by autodoc (``:members:``), not again by numpydoc's class summaries.
autodoc_typehints = "signature"
autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# The README's headings are its own page's sections; its images live under notebooks/.
myst_heading_anchors = 3

html_theme = "pydata_sphinx_theme"
html_title = "bextoolkit"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": [],
}
html_static_path: list[str] = []
