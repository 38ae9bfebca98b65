"""The README of the ``data-samples`` folder, with the counts a reader must reproduce."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

import pandas as pd

from bextoolkit import schema


def headline(events: pd.DataFrame) -> pd.DataFrame:
    """Per mailing: sent, bounces, delivered, unique opens and clicks, opt-outs."""
    who = events["RECIPIENT_ID"].astype("string")
    code = events["code"].astype("string")
    bounce = events["bounceType"].astype("string")
    mailing = events["messageId"].astype("string")

    def distinct(mask: pd.Series) -> pd.Series:
        return who[mask].groupby(mailing[mask]).nunique()

    table = (
        pd.DataFrame(
            {
                "sent": distinct(code == "emailSend"),
                "suppressed": distinct(code == "emailSuppressed"),
                "hard_bounced": distinct((code == "emailBounce") & (bounce == "Hard")),
                "soft_bounced": distinct((code == "emailBounce") & (bounce == "Soft")),
                "unique_opens": distinct(code == "emailOpen"),
                "unique_clicks": distinct(code == "emailClick"),
                "opt_outs": distinct(code == "emailOptOut"),
            }
        )
        .fillna(0)
        .astype(int)
    )
    table.insert(4, "delivered", table["sent"] - table["hard_bounced"] - table["soft_bounced"])
    return table


def samples_readme(
    events: pd.DataFrame,
    mailings: pd.DataFrame,
    files: Sequence[str],
    base: str,
    *,
    n_recipients: int,
    seed: int,
    sample_columns: Sequence[str],
    folders: Sequence[str],
) -> str:
    """The README text: what is in each folder, how it was made, the expected counts."""
    counts = events["code"].astype("string").value_counts().reindex(list(schema.EVENT_TYPES))
    bounces = events["bounceType"].astype("string").value_counts()
    heads = headline(events)
    mailings = mailings.set_index("messageId")
    lines = [
        "# data-samples",
        "",
        "Synthetic Acoustic Campaign exports made by `bextoolkit.samples` (no real person or",
        "company is in them). One simulated day, 2026-11-02 00:00 to 2026-11-03 00:00 UTC, of",
        f"{len(mailings)} mailings to a database of {n_recipients} contacts, "
        f"{len(events)} events, written in every shape the readers must take.",
        "",
        "Regenerate them (byte for byte, with the same numpy and pyarrow) with:",
        "",
        "```",
        f"bextoolkit samples data-samples --recipients {n_recipients} --seed {seed}",
        "```",
        "",
        "or `bextoolkit.samples.write_samples('data-samples', "
        f"n_recipients={n_recipients}, seed={seed})`.",
        "",
        "| folder | what |",
        "|---|---|",
        "| `csv/` | BEX export, CSV, one file per hour (`jobFrequency` 1), 24 files |",
        "| `psv/` | the same events as PSV (`|` delimiter) |",
        "| `tsv-gz/` | the same events as gzipped TSV (`.tsv.gz`) |",
        f"| `with-columns/` | the same events in one daily CSV (`jobFrequency` 24) with the "
        f"database columns {', '.join(sample_columns)} after the BEX columns |",
        "| `rrde/` | the same events as a RawRecipientDataExport zip (one CSV inside, "
        "with the same database columns) |",
        "",
        "## How the files are written",
        "",
        "- Names: `{prefix}{channel}_{window end, UTC, YYYYMMDDHHMMSS}_{frequency}{ext}`, e.g.",
        "  `Recipient Event Bulk Export_Email_20261102010000_1.csv` holds 00:00-01:00 UTC.",
        "- Header row: the 25 documented BEX columns, then any database columns. UTF-8, `\\n`",
        "  line ends. Fields are quoted only when they hold the delimiter, a double quote or",
        "  a line break; quotes inside are doubled (Python `csv` semantics). Empty cell =",
        "  missing value.",
        "- The event type is in `code` (emailSend, emailOpen, emailClick, emailBounce,",
        "  emailOptOut, emailSuppressed). `bounceType` is `Hard` or `Soft`.",
        "- `timestamp`: ISO 8601 UTC with milliseconds, e.g. `2026-11-02T06:00:03.123Z`; in the",
        "  RRDE file `11/02/2026 06:00:03` (UTC).",
        "- The mailing type (SendExperience, Programs, ABTest, AutoResponder, AMG) is in",
        "  `originatedFrom` (BEX documents no column for it); `sendType` is `Scheduled` for",
        "  batch mailings and `Triggered` for the others.",
        "- Subjects hold commas, double quotes, `|`, non-ASCII letters and emoji; user agents",
        "  are long real-world strings; Apple Mail Privacy Protection opens carry the bare",
        "  agent `Mozilla/5.0` and come minutes after delivery; security scanners click every",
        "  link of a mailing seconds after delivery.",
        "- Events after the end of the day are not in the files (late opens of the evening",
        "  mailing would arrive in the next day's exports).",
        "",
        "## Expected numbers (check a reader against these)",
        "",
        "Events per `code` (every file set holds the same events):",
        "",
        "| code | events |",
        "|---|---|",
        *[f"| {code} | {int(n)} |" for code, n in counts.fillna(0).items()],
        f"| **total** | {len(events)} |",
        "",
        f"Bounces: {int(bounces.get('Hard', 0))} Hard, {int(bounces.get('Soft', 0))} Soft.",
        "",
        "Per mailing (distinct `RECIPIENT_ID`; delivered = sent - hard - soft bounces):",
        "",
        "| messageId | type | subjectLine | sent | suppressed | hard | soft | delivered "
        "| unique opens | unique clicks | opt-outs |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for message_id, row in heads.iterrows():
        info = mailings.loc[str(message_id)]
        subject = str(info["subjectLine"]).replace("|", "\\|")
        lines.append(
            f"| {message_id} | {info['mailingType']} | {subject} | {row['sent']} "
            f"| {row['suppressed']} | {row['hard_bounced']} | {row['soft_bounced']} "
            f"| {row['delivered']} | {row['unique_opens']} | {row['unique_clicks']} "
            f"| {row['opt_outs']} |"
        )
    lines += ["", "## Files", "", "| folder | files | first file |", "|---|---|---|"]
    for folder in folders:
        names = sorted(f[len(base) + 1 :] for f in files if f.startswith(f"{base}/{folder}/"))
        lines.append(f"| `{folder}/` | {len(names)} | `{posixpath.basename(names[0])}` |")
    return "\n".join(lines) + "\n"
