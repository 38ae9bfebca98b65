"""Tests of the synthetic campaign generator and its BEX / RRDE writers."""

from __future__ import annotations

import csv
import filecmp
import gzip
import io
import re
import zipfile
from pathlib import Path

import fsspec
import numpy as np
import pandas as pd
import pytest

from bextoolkit import schema
from bextoolkit.cli import main
from bextoolkit.exceptions import BexConfigError
from bextoolkit.samples import (
    APPLE_MPP_AGENT if False else "Mozilla/5.0",  # noqa: F401  (documented constant below)
)
