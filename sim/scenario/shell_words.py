"""The words and operators of a shell script, found the way the shell finds them.

The scanner honours quotes, backslashes, ``$( )``, backquotes, comments and
here-documents, so that an operator inside quotes stays part of a word; ``shlex`` then
removes the quotes of each word. Nothing is ever executed.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

# Longest first, so that "&&" wins over "&".
_OPERATORS = ("&&", "||", ";;", ">>", "<<", ">&", "<&", "&>", ">|", *";&|()<>\n")
_OPERATOR_CHARS = frozenset(";&|()<>")
REDIRECTIONS = frozenset({">", ">>", "<", "<<", ">&", "<&", "&>", ">|"})
_BLANKS = frozenset(" \t\r")


class ShellSyntaxError(ValueError):
    """The script is not shell syntax this reader understands."""


@dataclass(frozen=True)
class Word:
    """One word: its text after quote removal and what the shell would expand.

    ``dynamic`` marks a word whose value is only known when the script runs (a
    variable, ``$(...)`` or backquotes outside single quotes); ``glob`` marks an
    unquoted ``*``, ``?`` or ``[``.
    """

    text: str
    raw: str
    dynamic: bool = False
    glob: bool = False


@dataclass(frozen=True)
class Op:
    """An operator: ``;``, ``&&``, a redirection, a newline... ``fd`` as in ``2>``."""

    text: str
    fd: str = ""


Token = Word | Op


def tokenize(script: str) -> list[Token]:
    """Split a script into words and operators (quotes kept apart, never run).

    Raises
    ------
    ShellSyntaxError
        On an unclosed quote, ``$(`` or backquote.
    """
    return _Scanner(script).scan()


def command_text(words: tuple[Word, ...], limit: int = 60) -> str:
    """Return a command as written, shortened to ``limit`` characters."""
    text = " ".join(w.raw for w in words)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Scanner:
    """Finds the words and operators of a script."""

    def __init__(self, script: str) -> None:
        self.text = script
        self.i = 0
        self.tokens: list[Token] = []
        self.raw: list[str] = []
        self.dynamic = False
        self.glob = False
        self.heredocs: list[tuple[str, bool]] = []
        self.want_delimiter: bool | None = None

    def scan(self) -> list[Token]:
        text = self.text
        while self.i < len(text):
            c = text[self.i]
            if text.startswith("\\\n", self.i):
                self.i += 2
            elif c in _BLANKS:
                self._flush()
                self.i += 1
            elif c == "#" and not self.raw:
                end = text.find("\n", self.i)
                self.i = len(text) if end < 0 else end
            elif c in _OPERATOR_CHARS or c == "\n":
                self._operator()
            elif c == "'":
                self._take(self._closing(self.i, "'"))
            elif c == '"':
                end = self._closing(self.i, '"')
                self.dynamic |= "$" in text[self.i : end] or "`" in text[self.i : end]
                self._take(end)
            elif c == "\\":
                self._take(min(self.i + 2, len(text)))
            elif text.startswith("$(", self.i):
                self.dynamic = True
                self._take(self._closing_paren(self.i + 1))
            elif c == "`":
                self.dynamic = True
                self._take(self._closing(self.i, "`"))
            else:
                self.dynamic |= c == "$"
                self.glob |= c in "*?["
                self.raw.append(c)
                self.i += 1
        self._flush()
        return self.tokens

    def _take(self, end: int) -> None:
        self.raw.append(self.text[self.i : end])
        self.i = end

    def _closing(self, start: int, quote: str) -> int:
        """Index just after the quote closing the one at ``start``."""
        i = start + 1
        while i < len(self.text):
            if self.text[i] == "\\" and quote != "'":
                i += 2
                continue
            if self.text[i] == quote:
                return i + 1
            i += 1
        raise ShellSyntaxError(f"unclosed {quote}")

    def _closing_paren(self, start: int) -> int:
        """Index just after the ``)`` closing the ``(`` at ``start``."""
        depth, i = 0, start
        while i < len(self.text):
            c = self.text[i]
            if c in "'\"":
                i = self._closing(i, c)
                continue
            depth += (c == "(") - (c == ")")
            i += 1
            if depth == 0:
                return i
        raise ShellSyntaxError("unclosed $(")

    def _operator(self) -> None:
        text = self.text
        fd = ""
        if text[self.i] in "<>" and self.raw and "".join(self.raw).isdigit():
            fd = "".join(self.raw)
            self.raw.clear()
        self._flush()
        op = next(o for o in _OPERATORS if text.startswith(o, self.i))
        self.i += len(op)
        if op == "<<":
            strip = text.startswith("-", self.i)
            self.i += strip
            self.want_delimiter = strip
        self.tokens.append(Op(op, fd))
        if op == "\n" and self.heredocs:
            self._skip_heredocs()

    def _flush(self) -> None:
        if not self.raw:
            return
        raw = "".join(self.raw)
        try:
            parts = shlex.split(raw)
        except ValueError as error:
            raise ShellSyntaxError(str(error)) from None
        word = Word(" ".join(parts), raw, self.dynamic, self.glob)
        self.tokens.append(word)
        if self.want_delimiter is not None:
            self.heredocs.append((word.text, self.want_delimiter))
            self.want_delimiter = None
        self.raw.clear()
        self.dynamic = self.glob = False

    def _skip_heredocs(self) -> None:
        """Skip the bodies of the here-documents opened on the line just ended."""
        for delimiter, strip in self.heredocs:
            while self.i < len(self.text):
                end = self.text.find("\n", self.i)
                end = len(self.text) if end < 0 else end
                line = self.text[self.i : end]
                self.i = end + 1
                if (line.lstrip("\t") if strip else line) == delimiter:
                    break
        self.heredocs.clear()
