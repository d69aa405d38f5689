"""The byte-transfer progress bar: `chargepark flash` and firmware updates over the bus show the same one."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

LABEL = 40  # characters of the task's label (a file path, a bus position)


def transfer_progress(console: Console) -> Progress:
    """One bar per task (file or module): label, bar, percentage, bytes, time left.

    On a terminal it redraws in place; into a pipe or file rich writes only the final state.
    """
    return Progress(
        TextColumn("{task.description:<%d}" % LABEL),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def label(text: str) -> str:
    """The tail of a long label (a path's end tells more than its start)."""
    return text[-LABEL:]
