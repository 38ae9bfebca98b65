"""Private helpers of :mod:`bextoolkit.readers.files`: which files a ``urlpath`` means, via fsspec.

A ``urlpath`` is a path, a glob, a folder, a list of those, or any fsspec URL (chained
ones too). Files are listed and opened only through fsspec; names shown to the user
never carry the ``user:password@`` part of a URL.
"""

from __future__ import annotations

import os
import re
import socket
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import fsspec
import pyarrow as pa
from fsspec.implementations.local import LocalFileSystem

from bextoolkit.exceptions import (
    BexAuthError,
    BexConnectionError,
    BexError,
    BexFileError,
    BexWarning,
    redact,
)
from bextoolkit.readers._parsing import readable_name

UrlPath = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]

_GLOB = re.compile(r"[*?\[]")
_URL = re.compile(r"^(?P<proto>(?:[\w+.-]+::)*[\w+.-]+://)(?P<netloc>[^/]*)")


@dataclass
class Source:
    """One file to read: its filesystem, the path fsspec knows it by, and a display name.

    ``named`` is True for the one file a ``urlpath`` names (not a folder, a glob or a
    list): it must be an event export, while files of another kind found otherwise are
    skipped and recorded.
    """

    fs: Any
    path: str
    display: str
    info: dict[str, Any] = field(default_factory=dict)
    named: bool = False

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    def read(self) -> pa.Buffer:
        """All bytes of the file (memory-mapped for local files, no copy)."""
        if isinstance(self.fs, LocalFileSystem) and os.path.getsize(self.path) > 0:
            return pa.memory_map(self.path).read_buffer()
        with (
            transport_errors(self.display, self.fs.storage_options),
            self.fs.open(self.path, "rb") as handle,
        ):
            return pa.py_buffer(handle.read())


class Sources(list[Source]):
    """The files a ``urlpath`` means; ``empty_folders`` lists folders with no export file."""

    empty_folders: list[str]


def expand(
    urlpath: UrlPath, storage_options: Mapping[str, Any] | None, *, details: bool = False
) -> Sources:
    """Turn paths, globs, folders and lists into the files they mean, in name order.

    A folder means the files directly in it that may be exports (``.csv``, ``.psv``,
    ``.tsv``, ``.txt``, optionally ``.gz``, and ``.zip``); one with none is warned about
    and recorded in ``empty_folders``. A glob that matches nothing, a missing file or
    folder raise ``FileNotFoundError`` naming it; a refused login or an unreachable
    server raise :class:`BexAuthError` / :class:`BexConnectionError` naming the host.
    """
    items = [urlpath] if isinstance(urlpath, str | os.PathLike) else list(urlpath)
    if not items:
        raise FileNotFoundError("no urlpath given: pass a path, glob, folder or list of them")
    sources = Sources()
    sources.empty_folders = []
    for item in items:
        url = os.fspath(item)
        with transport_errors(url, storage_options):
            fs, path = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
            infos, named = _files_at(fs, path, url, details)
        if named is None:
            sources.empty_folders.append(redact(url))
            warnings.warn(
                f"{redact(url)} holds no export files (.csv, .psv, .tsv, .txt, .gz, .zip)",
                BexWarning,
                stacklevel=4,
            )
        for file_path in sorted(infos):
            display = _display(url, file_path)
            alone = bool(named) and isinstance(urlpath, str | os.PathLike)
            sources.append(Source(fs, file_path, display, infos[file_path], alone))
    return sources


def _files_at(
    fs: Any, path: str, url: str, details: bool
) -> tuple[dict[str, dict[str, Any]], bool | None]:
    """The files a path means and whether it named one file (None: an empty folder)."""
    if _GLOB.search(path):
        found = fs.glob(path, detail=True)
        infos = {p: i for p, i in found.items() if i.get("type") != "directory"}
        if not infos:
            raise FileNotFoundError(f"no files match {redact(url)}")
        return infos, False
    try:
        is_dir = fs.isdir(path)
    except FileNotFoundError:
        is_dir = False
    if is_dir:
        listed = fs.ls(path, detail=True)
        infos = {
            i["name"]: i
            for i in listed
            if i.get("type") != "directory" and readable_name(i["name"])
        }
        return infos, (False if infos else None)
    try:
        info = fs.info(path)
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"{redact(url)}: no such file or folder") from exc
    return {path: info if details else {}}, True


@contextmanager
def transport_errors(url: str, storage_options: Mapping[str, Any] | None) -> Iterator[None]:
    """Turn SFTP/FTP/network failures inside the block into :func:`as_bex_error`'s errors."""
    try:
        yield
    except Exception as exc:
        translated = as_bex_error(exc, url, storage_options or {})
        if translated is exc:
            raise
        raise translated from exc


def as_bex_error(exc: BaseException, url: str, options: Mapping[str, Any]) -> BaseException:
    """A failure from paramiko, ftplib or the network as the error it means, naming the
    host, port and path of ``url`` (never its password); anything else unchanged.

    A refused login is :class:`BexAuthError`; a refused, timed-out or dropped connection
    :class:`BexConnectionError`; a missing path ``FileNotFoundError`` naming it; a denied
    one :class:`BexFileError`.

    Examples
    --------
    >>> import paramiko
    >>> refused = paramiko.AuthenticationException("Authentication failed.")
    >>> error = as_bex_error(refused, "sftp://me:pw@host:22/download", {"username": "me"})
    >>> type(error).__name__, str(error).split(":")[0:2]
    ('BexAuthError', ['sftp', '//host'])
    >>> "pw" in str(error)
    False
    """
    if isinstance(exc, BexError):
        return exc
    where, user = _where(url, options)
    login = f" as {user!r}" if user else ""
    name = type(exc).__name__
    text = redact(str(exc).splitlines()[0])[:200] if str(exc) else name
    if name in ("AuthenticationException", "BadAuthenticationType") or (
        name == "error_perm" and text.startswith("530")
    ):
        return BexAuthError(
            f"{where}: the login{login} was refused: check the user name and the password "
            "(for Acoustic's SFTP also: user 'oauth' with a current access token)",
            url=where,
        )
    if isinstance(exc, FileNotFoundError):
        return (
            exc
            if redact(url) in str(exc)
            else FileNotFoundError(f"{where}: no such file or folder")
        )
    if isinstance(exc, PermissionError):
        return BexFileError(where, f"permission denied{login}")
    if isinstance(exc, OSError | EOFError) or name in ("SSHException", "error_temp", "error_reply"):
        if isinstance(exc, ConnectionRefusedError) or name == "NoValidConnectionsError":
            text = "connection refused"
        elif isinstance(exc, TimeoutError):
            text = "no answer in time"
        elif isinstance(exc, socket.gaierror):
            text = "the host name does not resolve"
        return BexConnectionError(
            f"{where}: cannot connect ({text}): check the host and port and that the server is up"
        )
    return exc


def _where(url: str, options: Mapping[str, Any]) -> tuple[str, str]:
    """``("sftp://host:port/path", "user")`` of a URL and its options, no password."""
    parts = urlsplit(url.rsplit("::", 1)[-1])
    host = options.get("host") or parts.hostname or "localhost"
    port = options.get("port") or parts.port or {"sftp": 22, "ssh": 22, "ftp": 21}.get(parts.scheme)
    user = options.get("username") or parts.username or ""
    location = f"{parts.scheme}://{host}{f':{port}' if port else ''}{parts.path or '/'}"
    return (location if parts.scheme else redact(url)), str(user)


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


def with_login(urlpath: Any, display: str) -> str:
    """``display`` (a file's URL without login) with the login part of ``urlpath`` put
    back, for a reader that must log in again (a Dask worker). Never shown to a user."""
    url = os.fspath(urlpath) if isinstance(urlpath, str | os.PathLike) else ""
    match = _URL.match(url)
    if match and "@" in match["netloc"]:
        host = match["netloc"].rsplit("@", 1)[-1]
        return display.replace(f"{match['proto']}{host}", f"{match['proto']}{match['netloc']}", 1)
    return display
