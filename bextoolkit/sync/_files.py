"""The source files of a sync: listing, staging copies, the lock on DEST."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bextoolkit.exceptions import BexError, redact
from bextoolkit.readers import store as _store
from bextoolkit.readers._sources import Source
from bextoolkit.readers.listing import modified_time

log = logging.getLogger(__name__)

_CHUNK = 4 * 1024 * 1024
_STAGING_PREFIX = "bex-sync-"


# --- the source files --------------------------------------------------------------------
def listed_mtime(info: Mapping[str, Any]) -> tuple[str | None, float | None]:
    """A listed file's modified time: (ISO text in UTC, POSIX seconds)."""
    stamp = modified_time(info)
    return (None, None) if stamp is None else (stamp.isoformat(), stamp.timestamp())


@dataclass
class File:
    """One source file of this run, and what was learnt about it."""

    source: Source
    key: str  # the full path or URL, no password: one source per key
    size: int
    mtime: str | None
    local: str = ""
    sha256: str = ""
    keys: np.ndarray | None = None  # distinct row keys (uint64) and their counts
    counts: np.ndarray | None = None
    dates: set[Any] = field(default_factory=set)  # the event dates of its rows
    mailings: set[str] = field(default_factory=set)  # the messageIds of its rows
    rows: int = 0
    duplicates: int = 0
    skipped_lines: int = 0
    skipped_reason: str | None = None
    table_version: int | None = None  # kept from an earlier run when only its stat changed
    batch_index: int = -1  # its number among the files of one reader call
    columns: list[str] | None = None  # the columns it carries (event identity compares them)
    renamed: dict[str, str] = field(default_factory=dict)  # names that clashed by case


def copy_file(file: File, folder: str) -> None:
    """Copy one source file into its own folder under ``folder``, hashing it."""
    own = tempfile.mkdtemp(dir=folder)
    file.local = os.path.join(own, file.source.name)
    digest = hashlib.sha256()
    size = 0
    with file.source.fs.open(file.source.path, "rb") as remote, open(file.local, "wb") as out:
        if hasattr(remote, "prefetch"):  # paramiko: pipeline the reads
            remote.prefetch(file.size or None)
        while chunk := remote.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    file.sha256 = digest.hexdigest()
    file.size = size


def still_being_written(file: File, listed_size: int) -> str | None:
    """Why a copied file looks incomplete (else None)."""
    if file.size != listed_size:
        return f"{listed_size} bytes listed, {file.size} copied"
    lower = file.source.name.lower()
    if lower.endswith((".gz", ".zip")):
        return None
    with open(file.local, "rb") as handle:
        if file.size:
            handle.seek(-1, os.SEEK_END)
        if handle.read(1) != b"\n":
            return "does not end with a newline"
    return None


# --- staging and the lock ----------------------------------------------------------------
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's process
        return True
    return True


def remove_stale_staging(folder: str | None = None) -> int:
    """Delete staging folders left by killed syncs (their process is gone); how many."""
    folder = folder or tempfile.gettempdir()
    removed = 0
    for name in os.listdir(folder):
        if not name.startswith(_STAGING_PREFIX):
            continue
        pid_text = name[len(_STAGING_PREFIX) :].split("-", 1)[0]
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)
            removed += 1
    return removed


@contextlib.contextmanager
def staging() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{os.getpid()}-")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def lock(uri: str, wait: float) -> Iterator[None]:
    """Hold DEST's sync lock; another sync waits up to ``wait`` seconds, then BexError.

    On a local DEST the lock is an ``flock`` on ``DEST/_bex_sync.lock``: the system drops
    it when its process ends, even when killed. On an object store, and against writers
    that are not bextoolkit (Spark, ...), Delta's own commit protocol refuses a
    conflicting commit: a :class:`BexError` too.
    """
    from deltalake.exceptions import CommitFailedError

    try:
        with contextlib.nullcontext() if "://" in uri else _flock(uri, wait):
            yield
    except CommitFailedError as exc:
        why = str(exc).splitlines()[0]  # not delta-rs's advice to weaken the isolation level
        raise BexError(
            f"{redact(uri)}: another writer changed the table while this sync committed "
            f"({why}). "
            "Nothing half-written is visible; run the sync again to add what this run could "
            "not commit."
        ) from exc


@contextlib.contextmanager
def _flock(uri: str, wait: float) -> Iterator[None]:
    """The ``flock`` on ``DEST/_bex_sync.lock`` (see :func:`lock`)."""
    os.makedirs(uri, exist_ok=True)
    path = os.path.join(uri, _store.LOCK_NAME)
    with open(path, "a+") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise BexError(
                        f"{uri}: another sync is writing to this store ({holder}); wait for "
                        f"it to finish, or pass wait=SECONDS (CLI: --wait) to queue behind it"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {started}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
