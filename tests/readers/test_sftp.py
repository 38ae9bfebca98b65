"""The loopback SFTP server: login, refusal, listing, reading, chroot, repr without secrets."""

from __future__ import annotations

import fsspec
import paramiko
import pytest

from bextoolkit.sandbox.sftp import SFTPServer

PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def sftp_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("sftp-root")
    (root / "download").mkdir()
    (root / "download" / "a.csv").write_bytes(b"Email,code\nx@example.com,emailOpen\n")
    (root / "download" / "b.psv").write_bytes(b"Email|code\n")
    return root


@pytest.fixture(scope="module")
def server(sftp_root):
    with SFTPServer(sftp_root, username="admin@example.com", password=PASSWORD) as running:
        yield running


def _fs(options):
    return fsspec.filesystem("sftp", skip_instance_cache=True, **options)


def test_login_lists_the_root_as_slash(server):
    fs = _fs(server.storage_options)
    assert fs.ls("/", detail=False) == ["/download"]
    assert sorted(fs.ls("/download", detail=False)) == ["/download/a.csv", "/download/b.psv"]


def test_reads_file_bytes(server, sftp_root):
    fs = _fs(server.storage_options)
    with fs.open("/download/a.csv", "rb") as handle:
        assert handle.read() == (sftp_root / "download" / "a.csv").read_bytes()
    assert fs.info("/download/a.csv")["size"] == len(b"Email,code\nx@example.com,emailOpen\n")


def test_url_and_storage_options(server):
    assert server.url == f"sftp://127.0.0.1:{server.port}"
    assert server.port and server.port > 0
    options = server.storage_options
    assert options["username"] == "admin@example.com"
    assert options["password"] == PASSWORD
    with fsspec.open(
        server.url + "/download/a.csv", "rb", skip_instance_cache=True, **options
    ) as handle:
        assert handle.read().startswith(b"Email,code")


def test_wrong_password_is_refused(server):
    options = {**server.storage_options, "password": "wrong"}
    with pytest.raises(paramiko.AuthenticationException) as info:
        _fs(options).ls("/")
    assert "wrong" not in str(info.value)
    assert PASSWORD not in str(info.value)


def test_wrong_user_is_refused(server):
    with pytest.raises(paramiko.AuthenticationException):
        _fs({**server.storage_options, "username": "someone@example.com"}).ls("/")


def test_cannot_leave_the_root(server):
    fs = _fs(server.storage_options)
    assert [p.rsplit("/", 1)[-1] for p in fs.ls("/../..", detail=False)] == ["download"]
    with pytest.raises(FileNotFoundError):
        fs.open("/../../etc/hostname", "rb").read()


def test_repr_never_shows_the_password(server):
    text = repr(server)
    assert PASSWORD not in text
    assert server.url in text
    assert "admin@example.com" in text


def test_start_stop_and_restart(tmp_path):
    server = SFTPServer(tmp_path, username="u", password="p")
    assert not server.running
    with pytest.raises(RuntimeError, match="start"):
        _ = server.url
    server.start()
    try:
        assert server.running
        assert _fs(server.storage_options).ls("/", detail=False) == []
    finally:
        server.stop()
    assert not server.running
    assert "stopped" in repr(server)
    server.stop()  # a second stop is harmless


def test_missing_root_is_a_clear_error(tmp_path):
    server = SFTPServer(tmp_path / "nope", username="u", password="p")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        server.start()
