"""The ``bextoolkit`` command line: ``demo``, ``report``, ``jobs``, ``sandbox``, ``sync``.

Each subcommand is a small function ``_cmd_<name>(args) -> int`` registered in
:func:`build_parser`; library errors become one clear line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from bextoolkit.exceptions import BexError

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bextoolkit",
        description="Acoustic Campaign Bulk Event Export (BEX) toolkit.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # One ``_add_<command>(sub)`` per command; each sets ``func`` to its ``_cmd_<command>``.
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except BexError as exc:
        print(f"bextoolkit {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"bextoolkit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
