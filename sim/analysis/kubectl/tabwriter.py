r"""Columns as kubectl aligns them: Go's ``text/tabwriter`` and describe's indents.

``kubectl describe`` writes through ``tabbedString`` (``DESCRIBE_LAYOUT``) and a
``PrefixWriter`` that indents by levels of two spaces (``indent``); ``kubectl get``
through cli-runtime's ``printers.GetNewTabWriter`` (``GET_LAYOUT``).
"""

from __future__ import annotations

from typing import Any

#: ``tabbedString``: tabwriter.NewWriter(out, 0, 8, 2, ' ', 0).
DESCRIBE_LAYOUT: dict[str, Any] = {"min_width": 0, "padding": 2}
#: ``printers.GetNewTabWriter``: tabwriter.NewWriter(out, 6, 4, 3, ' ', 0).
GET_LAYOUT: dict[str, Any] = {"min_width": 6, "padding": 3}


def tabwrite(text: str, *, min_width: int = 0, padding: int = 2) -> str:
    r"""Align tab-terminated cells as Go's ``text/tabwriter`` does.

    Every ``\t`` ends a cell; the text after a line's last tab is not aligned.
    A column is aligned over each run of consecutive lines that have a cell in it
    (a line with fewer cells ends the run), at the widest cell plus ``padding``
    but at least ``min_width``; cells are padded with spaces, flags are none.

    Parameters
    ----------
    text
        Lines separated by ``\n``, cells terminated by ``\t``.
    min_width
        Minimal width of a column, padding included.
    padding
        Spaces added to the widest cell of a column.
    """
    rows = [line.split("\t") for line in text.split("\n")]
    out: list[str] = []
    _format_block(rows, [], 0, len(rows), out, min_width, padding)
    return "\n".join(out)


def _format_block(
    rows: list[list[str]],
    widths: list[int],
    line0: int,
    line1: int,
    out: list[str],
    min_width: int,
    padding: int,
) -> None:
    """``tabwriter.format``: find the blocks of column ``len(widths)``, recurse."""
    column = len(widths)
    this = line0
    while this < line1:
        if column >= len(rows[this]) - 1:
            this += 1
            continue
        _write_lines(rows, widths, line0, this, out)
        line0 = this
        width = min_width
        while this < line1 and column < len(rows[this]) - 1:
            width = max(width, len(rows[this][column]) + padding)
            this += 1
        _format_block(rows, [*widths, width], line0, this, out, min_width, padding)
        line0 = this
    _write_lines(rows, widths, line0, line1, out)


def _write_lines(
    rows: list[list[str]], widths: list[int], line0: int, line1: int, out: list[str]
) -> None:
    for cells in rows[line0:line1]:
        out.append(
            "".join(
                cell.ljust(widths[j]) if j < len(widths) else cell
                for j, cell in enumerate(cells)
            )
        )


def indent(level: int, *texts: str) -> list[str]:
    """Lines at an indentation level of ``kubectl describe`` (2 spaces each)."""
    return ["  " * level + text for text in texts]


def described(lines: list[str]) -> str:
    """The lines of a ``kubectl describe`` text, aligned, newline-terminated."""
    return tabwrite("\n".join([*lines, ""]), **DESCRIBE_LAYOUT)
