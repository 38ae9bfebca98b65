"""Private helpers of :mod:`bextoolkit.readers.files`: which files a ``urlpath`` means, via fsspec.

A ``urlpath`` is a path, a glob, a folder, a list of those, or any fsspec URL (chained
ones too). Files are listed and opened only through fsspec; names shown to the user
never carry the ``user:password@`` part of a URL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import fsspec
import pyarrow as pa
from fsspec.implementations.local import LocalFileSystem

from bextoolkit.readers._parsing import split_ext

UrlPath = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]

_GLOB = re.compile(r"[*?\[]")
_URL = re.compile(r"^(?P<proto>(?:[\w+.-]+::)*[\w+.-]+://)(?P<netloc>[^/]*)")


@dataclass
class Source:
    """One file to read: its filesystem, the path fsspec knows it by, and a display name."""

    fs: Any
    path: str
    display: str
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    def read(self) -> pa.Buffer:
        """All bytes of the file (memory-mapped for local files, no copy)."""
        if isinstance(self.fs, LocalFileSystem) and os.path.getsize(self.path) > 0:
            return pa.memory_map(self.path).read_buffer()
        with self.fs.open(self.path, "rb") as handle:
            return pa.py_buffer(handle.read())


def redact(url: str) -> str:
    """Drop ``user:password@`` from a URL: ``sftp://u:pw@h/x`` -> ``sftp://h/x``."""
    return re.sub(r"(://)[^/@]*@", r"\1", url)


def expand(
    urlpath: UrlPath, storage_options: Mapping[str, Any] | None, *, details: bool = False
) -> list[Source]:
    """Turn paths, globs, folders and lists into the files they mean, in name order.

    A folder means the export-like files directly in it (``.csv``, ``.psv``, ``.tsv``,
    ``.txt``, optionally ``.gz``, and ``.zip``). A glob that matches nothing raises
    ``FileNotFoundError``; a missing single file raises it when opened.
    """
    items = [urlpath] if isinstance(urlpath, str | os.PathLike) else list(urlpath)
    if not items:
        raise FileNotFoundError("no urlpath given: pass a path, glob, folder or list of them")
    sources: list[Source] = []
    for item in items:
        url = os.fspath(item)
        fs, path = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
        if _GLOB.search(path):
            found = fs.glob(path, detail=True)
            infos = {p: i for p, i in found.items() if i.get("type") != "directory"}
            if not infos:
                raise FileNotFoundError(f"no files match {redact(url)}")
        elif fs.isdir(path):
            listed = fs.ls(path, detail=True)
            infos = {
                i["name"]: i
                for i in listed
                if i.get("type") != "directory" and _export_like(i["name"])
            }
        else:
            infos = {path: fs.info(path) if details else {}}
        for file_path in sorted(infos):
            sources.append(Source(fs, file_path, _display(url, file_path), infos[file_path]))
    return sources


def _export_like(name: str) -> bool:
    _, fmt, compression = split_ext(name)
    return fmt is not None or compression == "zip"


def _display(url: str, path: str) -> str:
    """A name for messages and ``df.attrs``: the URL's protocol and host, then the path."""
    match = _URL.match(url)
    if not match:
        return path
    if "://" in path:
        return redact(path)
    netloc = match["netloc"].rsplit("@", 1)[-1]
    if path.lstrip("/").startswith(netloc):  # memory://, s3://bucket/...: host is in the path
        return f"{match['proto']}{path}"
    return f"{match['proto']}{netloc}/{path.lstrip('/')}"
