"""Reading a shell script without running it: a small syntax tree.

Container manifests often run a small ``sh -c`` script. To infer what the script does
over time (``sim.scenario.shell_clock``), this module parses the words and operators of
``sim.scenario.shell_words`` into a tree of the few constructs such scripts use: simple
commands with redirections, ``;``, ``&&``, ``||``, ``&``, pipelines, ``while``,
``until``, ``for`` and ``if``, ``{ }`` and ``( )`` groups and function definitions.
``case`` is recognised and kept whole, as ``Unsupported``. Nothing is ever executed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sim.scenario.shell_words import (
    REDIRECTIONS,
    Op,
    ShellSyntaxError,
    Token,
    Word,
    tokenize,
)

__all__ = ["ShellSyntaxError", "Word", "parse_script"]


@dataclass(frozen=True)
class Redirect:
    """A redirection such as ``> /tmp/f`` or ``2>&1``."""

    op: str
    target: Word
    fd: str = ""


@dataclass(frozen=True)
class Simple:
    """A simple command: assignments, words and redirections."""

    words: tuple[Word, ...]
    redirects: tuple[Redirect, ...] = ()
    assignments: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Pipeline:
    """``a | b | c``, or ``! a``."""

    commands: tuple[Node, ...]
    negated: bool = False


@dataclass(frozen=True)
class AndOr:
    """``a && b || c``: the first command, then (operator, command) pairs."""

    first: Node
    rest: tuple[tuple[str, Node], ...]


@dataclass(frozen=True)
class Sequence:
    """Commands in order; each with whether it runs in the background (``&``)."""

    items: tuple[tuple[Node, bool], ...] = ()


@dataclass(frozen=True)
class Loop:
    """``while COND; do BODY; done`` (or ``until``)."""

    condition: Sequence
    body: Sequence
    until: bool = False


@dataclass(frozen=True)
class ForLoop:
    """``for NAME in WORDS; do BODY; done``."""

    variable: str
    items: tuple[Word, ...]
    body: Sequence


@dataclass(frozen=True)
class IfClause:
    """``if``/``elif`` branches as (condition, body), and the ``else`` body."""

    branches: tuple[tuple[Sequence, Sequence], ...]
    otherwise: Sequence | None = None


@dataclass(frozen=True)
class Group:
    """``{ ...; }`` or, with ``subshell``, ``( ... )``."""

    body: Sequence
    subshell: bool = False


@dataclass(frozen=True)
class FunctionDef:
    """``name() { ...; }``."""

    name: str
    body: Node


@dataclass(frozen=True)
class Unsupported:
    """A construct recognised but not followed (``case ... esac``)."""

    text: str


Node = (
    Simple
    | Pipeline
    | AndOr
    | Sequence
    | Loop
    | ForLoop
    | IfClause
    | Group
    | FunctionDef
    | Unsupported
)


def parse_script(script: str) -> Sequence:
    """Parse a script into a ``Sequence``.

    Raises
    ------
    ShellSyntaxError
        When the text is not shell syntax this reader understands (an unclosed
        quote, a ``do`` without ``done``...).
    """
    return _Parser(tokenize(script)).parse()


_RESERVED_ENDS = frozenset({"do", "done", "then", "fi", "elif", "else", "esac", "}"})


class _Parser:
    """Recursive descent over the tokens."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0

    def parse(self) -> Sequence:
        body = self._list(frozenset())
        token = self._peek()
        if token is not None:
            raise ShellSyntaxError(f"unexpected {_show(token)}")
        return body

    # Token helpers.

    def _peek(self, ahead: int = 0) -> Token | None:
        index = self.pos + ahead
        return self.tokens[index] if index < len(self.tokens) else None

    def _next(self) -> Token | None:
        token = self._peek()
        self.pos += 1
        return token

    def _at_word(self, *texts: str) -> bool:
        token = self._peek()
        return isinstance(token, Word) and token.raw in texts

    def _at_op(self, *ops: str) -> bool:
        token = self._peek()
        return isinstance(token, Op) and token.text in ops

    def _expect_word(self, text: str) -> None:
        if not self._at_word(text):
            found = self._peek()
            shown = "the end" if found is None else _show(found)
            raise ShellSyntaxError(f'expected "{text}", found {shown}')
        self.pos += 1

    def _skip_newlines(self) -> None:
        while self._at_op("\n"):
            self.pos += 1

    # Grammar.

    def _list(self, stops: frozenset[str]) -> Sequence:
        items: list[tuple[Node, bool]] = []
        while True:
            while self._at_op("\n", ";"):
                self.pos += 1
            token = self._peek()
            if token is None or self._at_op(")", ";;"):
                break
            if isinstance(token, Word) and token.raw in stops:
                break
            node = self._and_or()
            background = self._at_op("&")
            if background or self._at_op(";", "\n"):
                self.pos += 1
            elif not (self._peek() is None or self._at_op(")", ";;") or self._ends()):
                raise ShellSyntaxError(f"unexpected {_show(self._peek())}")
            items.append((node, background))
        return Sequence(tuple(items))

    def _ends(self) -> bool:
        token = self._peek()
        return isinstance(token, Word) and token.raw in _RESERVED_ENDS

    def _and_or(self) -> Node:
        first = self._pipeline()
        rest: list[tuple[str, Node]] = []
        while self._at_op("&&", "||"):
            op = self._next()
            assert isinstance(op, Op)
            self._skip_newlines()
            rest.append((op.text, self._pipeline()))
        return AndOr(first, tuple(rest)) if rest else first

    def _pipeline(self) -> Node:
        negated = self._at_word("!")
        self.pos += negated
        commands = [self._command()]
        while self._at_op("|"):
            self.pos += 1
            self._skip_newlines()
            commands.append(self._command())
        if len(commands) == 1 and not negated:
            return commands[0]
        return Pipeline(tuple(commands), negated)

    def _command(self) -> Node:
        token = self._peek()
        if isinstance(token, Word):
            compounds: dict[str, Callable[[], Node]] = {
                "while": self._loop,
                "until": self._loop,
                "for": self._for,
                "if": self._if,
                "case": self._case,
                "{": self._brace,
                "function": self._function_keyword,
            }
            compound = compounds.get(token.raw)
            if compound is not None:
                node = compound()
                self._trailing_redirects()
                return node
            next_token, after = self._peek(1), self._peek(2)
            if (
                isinstance(next_token, Op)
                and next_token.text == "("
                and isinstance(after, Op)
                and after.text == ")"
            ):
                self.pos += 3
                self._skip_newlines()
                return FunctionDef(token.text, self._command())
        if self._at_op("("):
            self.pos += 1
            body = self._list(frozenset())
            if not self._at_op(")"):
                raise ShellSyntaxError('expected ")"')
            self.pos += 1
            self._trailing_redirects()
            return Group(body, subshell=True)
        return self._simple()

    def _simple(self) -> Simple:
        words: list[Word] = []
        assignments: list[Word] = []
        redirects: list[Redirect] = []
        while True:
            token = self._peek()
            if isinstance(token, Word):
                self.pos += 1
                if not words and _is_assignment(token):
                    assignments.append(token)
                else:
                    words.append(token)
            elif isinstance(token, Op) and token.text in REDIRECTIONS:
                redirects.append(self._redirect())
            else:
                break
        if not (words or assignments or redirects):
            token = self._peek()
            raise ShellSyntaxError(
                "unexpected " + ("end" if token is None else _show(token))
            )
        return Simple(tuple(words), tuple(redirects), tuple(assignments))

    def _redirect(self) -> Redirect:
        op = self._next()
        assert isinstance(op, Op)
        target = self._next()
        if not isinstance(target, Word):
            raise ShellSyntaxError(f"{op.text} needs a file name")
        return Redirect(op.text, target, op.fd)

    def _trailing_redirects(self) -> None:
        while self._at_op(*REDIRECTIONS):
            self._redirect()

    def _loop(self) -> Loop:
        until = self._at_word("until")
        self.pos += 1
        condition = self._list(frozenset({"do"}))
        self._expect_word("do")
        body = self._list(frozenset({"done"}))
        self._expect_word("done")
        return Loop(condition, body, until)

    def _for(self) -> ForLoop:
        self.pos += 1
        name = self._next()
        if not isinstance(name, Word):
            raise ShellSyntaxError("for needs a variable name")
        items: list[Word] = []
        if self._at_word("in"):
            self.pos += 1
            while isinstance(self._peek(), Word):
                token = self._next()
                assert isinstance(token, Word)
                items.append(token)
        while self._at_op(";", "\n"):
            self.pos += 1
        self._expect_word("do")
        body = self._list(frozenset({"done"}))
        self._expect_word("done")
        return ForLoop(name.text, tuple(items), body)

    def _if(self) -> IfClause:
        branches: list[tuple[Sequence, Sequence]] = []
        otherwise = None
        self.pos += 1
        while True:
            condition = self._list(frozenset({"then"}))
            self._expect_word("then")
            body = self._list(frozenset({"elif", "else", "fi"}))
            branches.append((condition, body))
            if self._at_word("elif"):
                self.pos += 1
                continue
            if self._at_word("else"):
                self.pos += 1
                otherwise = self._list(frozenset({"fi"}))
            self._expect_word("fi")
            return IfClause(tuple(branches), otherwise)

    def _case(self) -> Unsupported:
        subject = self._peek(1)
        depth = 0
        while (token := self._next()) is not None:
            if isinstance(token, Word) and token.raw in ("case", "esac"):
                depth += 1 if token.raw == "case" else -1
                if depth == 0:
                    shown = subject.raw if isinstance(subject, Word) else ""
                    return Unsupported(f"case {shown} in ... esac")
        raise ShellSyntaxError('expected "esac"')

    def _brace(self) -> Group:
        self.pos += 1
        body = self._list(frozenset({"}"}))
        self._expect_word("}")
        return Group(body)

    def _function_keyword(self) -> FunctionDef:
        self.pos += 1
        name = self._next()
        if not isinstance(name, Word):
            raise ShellSyntaxError("function needs a name")
        if self._at_op("(") and isinstance(self._peek(1), Op):
            self.pos += 2
        self._skip_newlines()
        return FunctionDef(name.text, self._command())


def _is_assignment(word: Word) -> bool:
    name, equals, _ = word.raw.partition("=")
    return bool(equals) and name.isidentifier()


def _show(token: Token | None) -> str:
    if token is None:
        return "the end"
    if isinstance(token, Op):
        return "a newline" if token.text == "\n" else f'"{token.text}"'
    return f'"{token.raw}"'
