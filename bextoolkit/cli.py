"""The ``bextoolkit`` command line: ``demo``, ``report``, ``jobs``, ``sandbox``, ``sync``.

Each subcommand is a small function ``_cmd_<name>(args) -> int`` registered in
:func:`build_parser`. Every error becomes one line on stderr and exit status 2 (``--debug``
adds the traceback); 1 means the command ran and found problems (``jobs validate``).
SFTP and FTP failures name the host, port and path they were about.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bextoolkit.exceptions import (
    BexConfigError,
    BexError,
    redact,
)

log = logging.getLogger(__name__)

#: Exit statuses: the command failed; it ran and found problems; Ctrl-C.
EXIT_ERROR = 2
EXIT_PROBLEMS = 1
EXIT_INTERRUPTED = 130
#: The report notebook installed with the package (notebooks/05-shareable-report.ipynb of
#: the repository links to it), so ``report --notebook`` works outside a checkout.
REPORT_NOTEBOOK = str(Path(__file__).resolve().parent / "templates" / "report.ipynb")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bextoolkit",
        description="Acoustic Campaign Bulk Event Export (BEX) toolkit.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument(
        "--debug", action="store_true", help="log everything and show the traceback of an error"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # One ``_add_<command>(sub)`` per command; each sets ``func`` to its ``_cmd_<command>``.
    _add_sync(sub)
    _add_sandbox(sub)
    _add_demo(sub)
    _add_jobs(sub)
    _add_report(sub)
    _add_samples(sub)
    return parser


def _add_sync(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "sync",
        help="copy new export files into a Delta Lake table",
        description=(
            "Copy the export files not synced yet from SRC (a folder, glob or fsspec URL such "
            "as sftp://user@host/download) into the Delta table DEST; a row another file "
            "already delivered is not added twice. Source files are never changed. Read DEST "
            "with bextoolkit.read_events, or any Delta reader. With --migrate, SRC is a store "
            "written by an older bextoolkit and DEST the new Delta table."
        ),
    )
    cmd.add_argument("src", help="folder, glob or URL BEX drops files into (--migrate: OLD)")
    cmd.add_argument("dest", help="Delta table folder or URL (created if missing)")
    cmd.add_argument("--migrate", action="store_true", help="convert the old store SRC into DEST")
    cmd.add_argument(
        "--settle",
        type=float,
        default=120,
        metavar="SECONDS",
        help="leave files modified less than SECONDS ago for the next run (default 120)",
    )
    cmd.add_argument(
        "--retention-hours",
        type=float,
        default=168,
        metavar="HOURS",
        help="vacuum files older versions needed for longer than HOURS (default 168)",
    )
    cmd.add_argument(
        "--wait",
        type=float,
        default=0,
        metavar="SECONDS",
        help="wait up to SECONDS for another sync on DEST to finish (default: stop at once)",
    )
    cmd.add_argument(
        "-o",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=(
            "fsspec storage option for SRC (repeatable), e.g. -o port=2222; an SFTP "
            "password is best given in the BEX_SFTP_PASSWORD environment variable"
        ),
    )
    cmd.add_argument(
        "--dest-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fsspec storage option for DEST (repeatable)",
    )
    cmd.add_argument(
        "--watch",
        type=float,
        metavar="MINUTES",
        help="keep running: sync again every MINUTES minutes (Ctrl-C stops)",
    )
    cmd.add_argument(
        "--batch-rows",
        type=int,
        default=2_000_000,
        metavar="N",
        help="events parsed per committed batch (bounds memory; default 2,000,000)",
    )
    cmd.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    cmd.set_defaults(func=_cmd_sync)


def _parse_options(pairs: Sequence[str], flag: str) -> dict[str, object]:
    import json

    options: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise BexConfigError(f"{flag} needs KEY=VALUE, got {redact(pair)!r}")
        try:
            options[key] = json.loads(value)
        except ValueError:
            options[key] = value
    return options


def _cmd_sync(args: argparse.Namespace) -> int:
    import os

    from bextoolkit.sync import migrate, sync, sync_forever

    if args.migrate:
        print(migrate(args.src, args.dest).summary())
        return 0
    src_options = _parse_options(args.option, "--option")
    password = os.environ.get("BEX_SFTP_PASSWORD")
    if password and args.src.startswith("sftp://") and "password" not in src_options:
        src_options["password"] = password  # kept out of the command line and `ps`
    options = {
        "storage_options": src_options,
        "dest_storage_options": _parse_options(args.dest_option, "--dest-option") or None,
        "batch_rows": args.batch_rows,
        "settle": args.settle,
        "retention_hours": args.retention_hours,
        "wait": args.wait,
        "progress": False if args.no_progress else None,
    }
    if args.watch is None:
        print(sync(args.src, args.dest, **options).summary())
        return 0
    for outcome in sync_forever(args.src, args.dest, every_minutes=args.watch, **options):
        if isinstance(outcome, Exception):
            line = error_line(outcome, _remote_of(args))
            print(f"bextoolkit sync: {line} (next try in {args.watch:g} min)", file=sys.stderr)
        else:
            print(outcome.summary(), flush=True)
    return 0


def _add_sandbox(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "sandbox",
        help="run a local stand-in for Acoustic: BEX API, OAuth and SFTP drop folder",
        description=(
            "Run Acoustic's BEX REST API (with OAuth) and an SFTP drop folder on 127.0.0.1, "
            "with sandbox-only credentials. For every job definition you create, the sandbox "
            "writes an export file to /download every jobFrequency hours of sandbox time, "
            "which runs SPEED times faster than the clock. Ctrl-C stops it."
        ),
    )
    cmd.add_argument(
        "--state",
        metavar="DIR",
        help="keep job definitions, credentials and files in DIR (default: a temporary folder)",
    )
    cmd.add_argument(
        "--speed",
        type=float,
        default=60.0,
        metavar="N",
        help="sandbox seconds per real second (default 60: an hour a minute; 3600: an hour a "
        "second; 0: time stands still)",
    )
    cmd.add_argument("--port", type=int, default=0, help="API port (default: a free one)")
    cmd.add_argument("--sftp-port", type=int, default=0, help="SFTP port (default: a free one)")
    cmd.add_argument(
        "--start",
        metavar="TIME",
        help="sandbox start time (default: where --state stopped, else 2026-11-02T00:00Z)",
    )
    cmd.add_argument("--seed", type=int, default=0, help="seed of the simulated databases")
    cmd.set_defaults(func=_cmd_sandbox)


def _cmd_sandbox(args: argparse.Namespace) -> int:
    import time

    from bextoolkit.sandbox import Sandbox

    sandbox = Sandbox(
        args.state,
        speed=args.speed,
        start=args.start,
        seed=args.seed,
        api_port=args.port,
        sftp_port=args.sftp_port,
    )
    with _sigterm_as_interrupt(), sandbox as sb:
        creds = sb.credentials
        pace = f"{sb.speed:g}x the clock" if sb.speed else "still (no --speed)"
        print(
            "BEX sandbox running on 127.0.0.1: a local stand-in for Acoustic Campaign.\n"
            "The credentials below are sandbox-only: made for this sandbox, they work nowhere"
            " else.\n"
            f"  API base URL   {sb.base_url}\n"
            f"  client id      {creds.client_id}\n"
            f"  client secret  {creds.client_secret}\n"
            f"  refresh token  {creds.refresh_token}\n"
            f"  SFTP folder    {sb.sftp_url}\n"
            f"  SFTP login     user {sb.sftp_username}, password {sb.sftp_password}\n"
            f"  local folder   {sb.download_dir}\n"
            f"  sandbox time   {sb.now:%Y-%m-%d %H:%M} UTC, running {pace}\n"
            "For BexClient.from_env(), in a shell:\n"
            + "".join(f"  export {k}='{v}'\n" for k, v in sb.env().items())
            + "Press Ctrl-C to stop.",
            flush=True,
        )
        shown = 0
        while True:
            time.sleep(0.5)
            written = sb.clock.written
            for path in written[shown:]:
                print(f"{sb.now:%Y-%m-%d %H:%M} UTC  wrote {path.name}", flush=True)
            shown = len(written)


def _add_demo(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "demo",
        help="the whole loop offline: sandbox, job definition, hourly exports, report",
        description=(
            "Start the local sandbox, create a job definition through the API, let it write "
            "HOURS hourly export files, load them over SFTP and write a campaign report."
        ),
    )
    cmd.add_argument(
        "-o", "--output", default="report.html", help="report file (default report.html)"
    )
    cmd.add_argument("--hours", type=int, default=24, help="sandbox hours to run (default 24)")
    cmd.add_argument(
        "--state",
        metavar="DIR",
        help="keep the sandbox folder (export files, job definition) in DIR afterwards",
    )
    cmd.add_argument("--seed", type=int, default=0, help="seed of the simulated database")
    cmd.set_defaults(func=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    from bextoolkit.demo import run_demo

    with _sigterm_as_interrupt():
        run_demo(
            args.output,
            hours=args.hours,
            state_dir=args.state,
            seed=args.seed,
            echo=lambda line: print(line, flush=True),
        )
    return 0


def _add_jobs(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "jobs",
        help="create, list, read, update or delete BEX job definitions",
        description=(
            "Manage BEX job definitions over the REST API. Credentials come from the "
            "environment: BEX_POD (or BEX_BASE_URL), BEX_CLIENT_ID, BEX_CLIENT_SECRET, "
            "BEX_REFRESH_TOKEN. Answers are printed as JSON (the wire format)."
        ),
    )
    actions = cmd.add_subparsers(dest="action", required=True, metavar="ACTION")
    file_help = "job definition JSON ('-' reads stdin)"
    create = actions.add_parser("create", help="create a job definition; prints its id")
    create.add_argument("--file", "-f", required=True, help=file_help)
    actions.add_parser("list", help="list job definitions (the sandbox can; a real pod may not)")
    get = actions.add_parser("get", help="print one job definition")
    get.add_argument("id", help="job definition id")
    update = actions.add_parser("update", help="replace a job definition (its JSON holds the id)")
    update.add_argument("--file", "-f", required=True, help=file_help)
    update.add_argument("--id", dest="job_id", help="the id, if the JSON does not hold it")
    delete = actions.add_parser("delete", help="delete a job definition")
    delete.add_argument("id", help="job definition id")
    check = actions.add_parser("validate", help="check a job definition file offline")
    check.add_argument("--file", "-f", required=True, help=file_help)
    cmd.set_defaults(func=_cmd_jobs)


def _read_job_file(path: str) -> object:
    import json
    from pathlib import Path

    from bextoolkit.exceptions import BexConfigError

    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise BexConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise BexConfigError(f"{path}: not valid JSON ({exc}); fix the file, try again") from None


def _cmd_jobs(args: argparse.Namespace) -> int:
    import json

    from bextoolkit.client import BexClient
    from bextoolkit.exceptions import BexValidationError
    from bextoolkit.jobs import JobDefinition

    def show(value: object) -> None:
        print(json.dumps(value, indent=2))

    job = None
    if args.action in ("create", "update", "validate"):
        try:
            job = JobDefinition.from_dict(_read_job_file(args.file))  # type: ignore[arg-type]
        except BexValidationError as exc:
            problems = exc.problems
        else:
            if getattr(args, "job_id", None):
                job.id = args.job_id
            problems = job.problems(for_update=args.action == "update")
        if problems:  # one line: the file, then every problem
            noun = "problem" if len(problems) == 1 else "problems"
            print(
                f"bextoolkit jobs: {args.file}: {len(problems)} {noun}: " + "; ".join(problems),
                file=sys.stderr,
            )
            # validate ran and found problems; create/update could not do what was asked
            return EXIT_PROBLEMS if args.action == "validate" else EXIT_ERROR
        if args.action == "validate":
            print("valid")
            return 0
    with BexClient.from_env() as client:
        if args.action == "create":
            show({"id": client.create_job(job)})  # type: ignore[arg-type]
        elif args.action == "update":
            show({"id": client.update_job(job)})  # type: ignore[arg-type]
        elif args.action == "list":
            show([j.to_dict() for j in client.list_jobs()])
        elif args.action == "get":
            show(client.get_job(args.id).to_dict())
        elif args.action == "delete":
            client.delete_job(args.id)
            show({"deleted": args.id})
    return 0


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into KeyboardInterrupt meanwhile, so servers are stopped either way."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _add_report(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "report",
        help="write a campaign report (one standalone HTML file)",
        description=(
            "Read export files (paths, globs, folders or fsspec URLs) and write one HTML "
            "file with the funnel per mailing, bounces, top links, engagement, quality flags "
            "and the data's provenance. No network is needed to open it."
        ),
    )
    cmd.add_argument("sources", nargs="+", metavar="PATH_OR_URL", help="export files to read")
    cmd.add_argument("-o", "--output", default="report.html", help="HTML file to write")
    cmd.add_argument("--title", default="Campaign report")
    cmd.add_argument("--tz", default="UTC", help="time zone of dates and the heatmap")
    cmd.add_argument("--mailing", action="append", help="messageId to include (repeatable)")
    cmd.add_argument("--start", help="first moment to include, e.g. 2026-11-02")
    cmd.add_argument("--end", help="moment to stop before, e.g. 2026-11-03")
    cmd.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="fsspec storage option (repeatable), e.g. --option port=2222",
    )
    cmd.add_argument(
        "--engine",
        choices=["pandas", "dask"],
        default="pandas",
        help="read with pandas, or with Dask on the cluster at --scheduler",
    )
    cmd.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler address (tcp://host:8786); default with --engine dask: a "
        "LocalCluster on this machine",
    )
    cmd.add_argument(
        "--notebook",
        nargs="?",
        const=REPORT_NOTEBOOK,
        metavar="IPYNB",
        help=(
            "run a report notebook with these parameters and export it as HTML instead "
            "(default: the report template installed with bextoolkit, notebook 05 of the "
            "repository; needs the 'notebook' extra)"
        ),
    )
    cmd.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from bextoolkit.readers import read_events
    from bextoolkit.sharing import CampaignReport, render_notebook

    options = _parse_options(args.option, "--option")
    if args.notebook:
        # The notebook runs in its own folder: local paths must not depend on ours.
        sources = [s if "://" in s else os.path.abspath(s) for s in args.sources]
        parameters = {
            "sources": sources,
            "storage_options": options,
            "title": args.title,
            "tz": args.tz,
            "mailings": args.mailing,
            "start": args.start,
            "end": args.end,
        }
        render_notebook(args.notebook, parameters, args.output)
    else:
        with _dask_client(args):
            events = read_events(
                args.sources, storage_options=options or None, tz=args.tz, engine=args.engine
            )
            if args.engine != "dask" and not events.attrs.get("files"):
                shown = ", ".join(redact(s) for s in args.sources)
                print(
                    f"bextoolkit report: no event exports in {shown}, so no report was "
                    "written: give the folder, files or URL the BEX exports are in",
                    file=sys.stderr,
                )
                return 1
            report = CampaignReport(
                events,
                title=args.title,
                tz=args.tz,
                mailings=args.mailing,
                start=args.start,
                end=args.end,
            )
            report.to_html(args.output)
    print(f"report written to {args.output}")
    return 0


@contextlib.contextmanager
def _dask_client(args: argparse.Namespace) -> Iterator[None]:
    """A Dask client for ``--engine dask`` (``--scheduler`` or a LocalCluster), else nothing."""
    if args.engine != "dask":
        if args.scheduler:
            raise BexConfigError("--scheduler needs --engine dask")
        yield
        return
    try:
        from distributed import Client
    except ImportError as exc:
        raise BexConfigError("--engine dask needs Dask: pip install 'bextoolkit[dask]'") from exc
    try:
        client = (
            Client(args.scheduler, timeout=10) if args.scheduler else Client(dashboard_address=None)
        )
    except OSError as exc:
        raise BexConfigError(
            f"no Dask scheduler answers at {args.scheduler}: start one (dask scheduler) or "
            "leave out --scheduler for a cluster on this machine"
        ) from exc
    with client:
        yield


def _add_samples(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "samples",
        help="regenerate the synthetic data-samples set",
        description=(
            "Simulate one day of a campaign and write it as hourly CSV, PSV and gzipped TSV "
            "exports, a daily CSV with database columns, an RRDE zip and a README with the "
            "expected counts (what the committed data-samples folder holds)."
        ),
    )
    cmd.add_argument("dest", metavar="DEST", help="folder to write (e.g. data-samples)")
    cmd.add_argument("--recipients", type=int, default=1500, help="contacts (default 1500)")
    cmd.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    cmd.set_defaults(func=_cmd_samples)


def _cmd_samples(args: argparse.Namespace) -> int:
    from bextoolkit.samples.campaigns import write_samples

    files = write_samples(args.dest, n_recipients=args.recipients, seed=args.seed)
    print(f"wrote {len(files)} files to {args.dest}")
    return 0


def _stdout_gone() -> bool:
    """Whether the reader of our stdout has gone away (a pipe with no reader left)."""
    import select

    if not hasattr(select, "poll"):  # Windows: no way to ask; it is almost always stdout
        return True
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a non-file (tests, Jupyter)
        return False
    poller = select.poll()
    poller.register(fd, 0)  # POLLERR is always reported: the write end of a broken pipe
    return any(event & select.POLLERR for _, event in poller.poll(0))


def _remote_of(args: argparse.Namespace) -> tuple[str, dict[str, Any]] | None:
    """The first remote (``scheme://``) source of the command and its options, if any."""
    if args.command == "sync":
        sources, pairs = [args.src], args.option
    elif args.command == "report":
        sources, pairs = args.sources, args.option
    else:
        return None
    remote = next((s for s in sources if "://" in s and not s.startswith("file://")), None)
    if remote is None:
        return None
    try:
        options = _parse_options(pairs, "--option")
    except BexConfigError:
        options = {}
    return remote, options


def as_bex_error(exc: BaseException, remote: tuple[str, dict[str, Any]] | None) -> BaseException:
    """A failure from paramiko, ftplib or the network as the BexError it means.

    The readers translate their own; this is the command line's net for whatever arrives
    untranslated, naming the host, port and path of the command's first remote source.
    """
    from bextoolkit.readers import as_bex_error as translate

    return exc if remote is None else translate(exc, *remote)


def error_line(exc: BaseException, remote: tuple[str, dict[str, Any]] | None = None) -> str:
    """One line for stderr: what failed and what to do, with no secret in it."""
    error = as_bex_error(exc, remote)
    text = str(error).replace("\n  - ", "; ")
    text = " ".join(text.split()) or type(error).__name__
    if not isinstance(error, BexError | OSError):
        text = f"unexpected {type(error).__name__}: {text} (run with --debug for the traceback)"
    return redact(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a reader that has gone shows up here, not at Python's exit
        return status
    except KeyboardInterrupt:
        print(f"bextoolkit {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # every error: one line, never a traceback (unless --debug)
        if isinstance(exc, BrokenPipeError) and _stdout_gone():
            # ``bextoolkit demo | head``: the reader has all it wanted; stop quietly, and
            # point stdout at devnull so that Python's own last flush does not complain
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 141  # 128 + SIGPIPE, what a shell reports for such a pipeline
        if args.debug:
            import traceback

            traceback.print_exc()
        print(f"bextoolkit {args.command}: {error_line(exc, _remote_of(args))}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
