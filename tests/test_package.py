import json
import os
import subprocess
import sys

from conftest import valid_body

import bextoolkit


def test_every_public_name_imports():
    for name in bextoolkit.__all__:
        assert getattr(bextoolkit, name) is not None, name


def test_all_is_sorted_and_unique():
    assert len(set(bextoolkit.__all__)) == len(bextoolkit.__all__)


def test_cli_stops_quietly_when_the_reader_of_its_output_has_gone(tmp_path):
    # ``bextoolkit ... | head``: the pipe's reader is gone before the command prints
    path = tmp_path / "job.json"
    path.write_text(json.dumps(valid_body()))
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from bextoolkit.cli import main; sys.exit(main())",
                "jobs",
                "validate",
                "--file",
                str(path),
            ],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 141
