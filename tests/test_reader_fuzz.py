"""Hypothesis fuzzing of the YAML reader with malformed text: only clean errors.

The inputs are the example files of ``scenarios/`` mutated at random (lines deleted,
duplicated, swapped or re-indented, characters and unicode inserted, tabs, the text
cut short, scalars replaced by huge numbers and odd YAML values, deep nesting,
anchors and aliases, tags such as ``!!python/object``, bytes that are not UTF-8),
and texts made from scratch out of YAML's punctuation. Each goes through the reader
three ways: ``sim.Scenario.from_yaml``, ``sim.load_scenario`` on a file, and the
command line in-process (``sim.cli.main``: ``validate``, then ``run`` when the file
is refused). Sweep files get the same mutations through ``sim.load_sweep`` and
``probesim sweep``.

The only outcomes allowed: a valid scenario, or ``ScenarioError`` whose problems
each name the file and a line of it (line 0 only for a problem of the whole file,
which has no field path); from the command line exit code 0 or 2, never a
traceback or an internal error, and no output directory when the file is refused.

``PROBESIM_READER_FUZZ_EXAMPLES`` sets the number of examples of the main test
(default 150; the others take a fraction); the terminal summary reports how many
inputs were tried.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.cli import main
from sim.scenario import Problem, ScenarioError

ROOT = Path(__file__).resolve().parents[1]
SEEDS = {
    path.name: path.read_text(encoding="utf-8")
    for path in sorted((ROOT / "scenarios").glob("*.yaml"))
}
SWEEP_DIR = ROOT / "scenarios" / "sweeps"
SWEEP_SEED = (SWEEP_DIR / "liveness-period.yaml").read_text(encoding="utf-8")
SWEEP_BASE = SWEEP_DIR / "hang-detection.scenario.yaml"

EXAMPLES = int(os.environ.get("PROBESIM_READER_FUZZ_EXAMPLES", "150"))


def _settings(share: float) -> settings:
    return settings(
        max_examples=max(1, int(EXAMPLES * share)),
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    )


# What the run tried: inputs per route and outcomes.
STATS: Counter[str] = Counter()
_STARTED: list[float] = []


class _ReaderFuzzReport:
    """A pytest plugin that prints the counts at the end of the session."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not STATS:
            return
        elapsed = time.perf_counter() - _STARTED[0] if _STARTED else 0.0
        terminalreporter.write_sep("-", "probesim reader fuzzing")
        terminalreporter.write_line(
            f"inputs tried: {STATS['inputs']} (max_examples={EXAMPLES}), "
            f"refused cleanly: {STATS['outcome:refused']}, "
            f"read: {STATS['outcome:read']}, in {elapsed:.1f} s"
        )
        for key in sorted(STATS):
            if key != "inputs":
                terminalreporter.write_line(f"  {key}: {STATS[key]}")


@pytest.fixture(scope="module", autouse=True)
def _reader_fuzz_report(request: pytest.FixtureRequest) -> Any:
    plugin = _ReaderFuzzReport()
    manager = request.config.pluginmanager
    if not manager.has_plugin("probesim-reader-fuzz"):
        manager.register(plugin, "probesim-reader-fuzz")
    if not _STARTED:
        _STARTED.append(time.perf_counter())
    yield


# ---------------------------------------------------------------------------
# Strategies: mutations of a valid file

# Characters that mean something to YAML, then some that only look odd.
PUNCTUATION = ":-[]{}&*!|>'\"%@`#,?\t\n\r ~=<\\"
ODD = "\x00\x07\x1b\x7f\x85\xa0\u2028\u2029\ufeff\ufffe\U0001f600\u202e"
NASTY_SCALARS = (
    "1" * 400,
    "-" + "9" * 40,
    "1e999",
    "-1e999",
    ".nan",
    "-.inf",
    "0x7fffffffffffffffff",
    "0o777777777777777777777",
    "0b1",
    "1_000",
    "2001-12-14t21:59:43.10-05:00",
    "~",
    "null",
    "[]",
    "{}",
    "''",
    "yes",
    "-0",
    "18446744073709551617",
    "1.30",
    "5h" * 50,
    "9" * 30 + "s",
)
TAGS = (
    "!!python/object/apply:os.system ['true']",
    "!!python/object:collections.OrderedDict {}",
    "!!python/name:os.system",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [{a: 1}]",
    "!!timestamp 2001-12-14",
    "!!float 3",
    "!!int '3'",
    "!!str 3",
    "!!map {}",
    "!!seq []",
    "!custom x",
    "!<tag:yaml.org,2002:python/object/new:os.system> [x]",
)
MUTATIONS = (
    "delete",
    "duplicate",
    "swap",
    "indent",
    "dedent",
    "tab",
    "insert-characters",
    "insert-unicode",
    "truncate",
    "scalar",
    "tag",
    "nesting",
    "anchor-alias",
    "undefined-alias",
    "self-alias",
    "alias-bomb",
    "document",
    "directive",
    "flip-key",
)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True) or [""]


def _mutate(draw: st.DrawFn, text: str) -> str:
    """Apply one drawn mutation to ``text``."""
    kind = draw(st.sampled_from(MUTATIONS))
    STATS[f"mutation:{kind}"] += 1
    lines = _lines(text)
    at = draw(st.integers(0, len(lines) - 1))
    if kind == "delete":
        del lines[at]
    elif kind == "duplicate":
        lines.insert(at, lines[at])
    elif kind == "swap":
        other = draw(st.integers(0, len(lines) - 1))
        lines[at], lines[other] = lines[other], lines[at]
    elif kind == "indent":
        lines[at] = " " * draw(st.integers(1, 5)) + lines[at]
    elif kind == "dedent":
        lines[at] = lines[at][draw(st.integers(1, 4)) :]
    elif kind == "tab":
        column = draw(st.integers(0, len(lines[at])))
        lines[at] = lines[at][:column] + "\t" + lines[at][column:]
    elif kind in ("insert-characters", "insert-unicode"):
        alphabet = (
            st.sampled_from(PUNCTUATION + ODD + "azAZ09")
            if kind == "insert-characters"
            else st.characters(codec="utf-8")
        )
        piece = draw(st.text(alphabet, min_size=1, max_size=8))
        column = draw(st.integers(0, len(lines[at])))
        lines[at] = lines[at][:column] + piece + lines[at][column:]
    elif kind == "truncate":
        return text[: draw(st.integers(0, len(text)))]
    elif kind in ("scalar", "tag"):
        new = draw(st.sampled_from(NASTY_SCALARS if kind == "scalar" else TAGS))
        lines[at] = _replace_value(lines[at], new)
    elif kind == "nesting":
        depth = draw(st.integers(20, 300))
        opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}")]))
        lines[at] = _replace_value(lines[at], opener * depth + "x" + closer * depth)
    elif kind == "anchor-alias":
        other = draw(st.integers(0, len(lines) - 1))
        lines[at] = _replace_value(lines[at], "&a " + _value(lines[at]))
        lines[other] = _replace_value(lines[other], "*a")
    elif kind == "undefined-alias":
        lines[at] = _replace_value(lines[at], "*nowhere")
    elif kind == "self-alias":
        lines[at] = _replace_value(lines[at], "&loop [x, *loop]")
    elif kind == "alias-bomb":
        levels = draw(st.integers(2, 9))
        bomb = ["bomb:\n  l0: &l0 [lol, lol]\n"]
        for level in range(1, levels + 1):
            bomb.append(f"  l{level}: &l{level} [" + f"*l{level - 1}, " * 9)
            bomb.append(f"*l{level - 1}]\n")
        lines.insert(at, "".join(bomb))
    elif kind == "document":
        separator = st.sampled_from(["---\n", "...\n", "--- |\n", "---\n-\n"])
        lines.insert(at, draw(separator))
    elif kind == "directive":
        directive = draw(
            st.sampled_from(["%YAML 1.1\n", "%YAML 9.9\n", "%TAG ! !x\n", "%FOO\n"])
        )
        lines.insert(at, directive)
    elif kind == "flip-key":
        lines[at] = _flip_key(draw, lines[at])
    return "".join(lines)


_KEY_VALUE = re.compile(r"^(\s*(?:- )?[^:#]+:)( ?)(.*?)(\r?\n?)$", re.DOTALL)


def _value(line: str) -> str:
    match = _KEY_VALUE.match(line)
    return match.group(3) if match and match.group(3) else "x"


def _replace_value(line: str, new: str) -> str:
    """The line with its value after ``key:`` replaced (or a new line if none)."""
    match = _KEY_VALUE.match(line)
    if match is None:
        return f"{line.rstrip()} {new}\n"
    return f"{match.group(1)} {new}{match.group(4) or chr(10)}"


def _flip_key(draw: st.DrawFn, line: str) -> str:
    """The line with one letter of its key changed (a misspelt field)."""
    match = _KEY_VALUE.match(line)
    letters = [i for i, c in enumerate(match.group(1) if match else "") if c.isalpha()]
    if not letters:
        return line
    i = draw(st.sampled_from(letters))
    letter = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyzQ"))
    return line[:i] + letter + line[i + 1 :]


@st.composite
def mutated(draw: st.DrawFn, seeds: tuple[str, ...]) -> str:
    """A valid file with one to four mutations."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        text = _mutate(draw, text)
    return text


@st.composite
def from_scratch(draw: st.DrawFn) -> str:
    """YAML punctuation, words the reader knows, unicode, in any order."""
    words = st.sampled_from(
        [
            "apiVersion: v1\n",
            "kind: Pod\n",
            "kind: Scenario\n",
            "apiVersion: probesim/v1alpha1\n",
            "metadata: {name: x}\n",
            "spec:\n",
            "  containers:\n",
            "  - name: a\n",
            "    image: busybox\n",
            "  duration: 1m\n",
            "---\n",
            "&a ",
            "*a ",
            "!!python/object ",
        ]
    )
    parts = st.one_of(
        words,
        st.text(st.sampled_from(PUNCTUATION + ODD + "ab01"), max_size=6),
        st.text(st.characters(codec="utf-8"), max_size=4),
    )
    return "".join(draw(st.lists(parts, max_size=30)))


def _corrupt_bytes(draw: st.DrawFn, text: str) -> bytes:
    """The text's UTF-8 with, sometimes, bytes that are not UTF-8 put in."""
    data = text.encode("utf-8")
    if draw(st.integers(0, 9)) == 9:
        at = draw(st.integers(0, len(data)))
        bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xfe\xff"]))
        data = data[:at] + bad + data[at:]
    return data


# ---------------------------------------------------------------------------
# Checks


def _line_count(text: str) -> int:
    """How many lines YAML sees (it breaks lines at \\r, \\x85, \\u2028 too)."""
    return len(re.split(r"\r\n|[\r\n\x85\u2028\u2029]", text))


def _check_problems(problems: tuple[Problem, ...], file: str, text: str) -> None:
    """Every problem names the file and a line of it, or is about the whole file."""
    assert problems, "ScenarioError without a problem"
    last = _line_count(text) + 1
    for problem in problems:
        assert problem.file == file, str(problem)
        assert problem.message, str(problem)
        assert "Traceback" not in problem.message
        if problem.line == 0:
            assert problem.path == "", f"a field path without a line: {problem}"
        else:
            assert 1 <= problem.line <= last, f"line out of the file: {problem}"
        STATS[f"line:{'whole file' if problem.line == 0 else 'given'}"] += 1


def _read(text: str, file: str) -> bool:
    """Read through ``Scenario.from_yaml``: True when it reads, False when refused."""
    try:
        scenario = sim.Scenario.from_yaml(text, file)
    except ScenarioError as error:
        _check_problems(error.problems, file, text)
        return False
    assert isinstance(scenario, sim.Scenario)
    for warning in scenario.warnings:  # rendered: FILE:LINE: PATH: MESSAGE
        assert warning.startswith(f"{file}:"), warning
    return True


def _cli(argv: list[str]) -> tuple[int, str, str]:
    """Run the command line in-process; Python warnings it gives are failures."""
    out, err = io.StringIO(), io.StringIO()
    with (
        warnings.catch_warnings(record=True) as caught,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        warnings.simplefilter("always")
        code = main(argv)
    assert [str(w.message) for w in caught] == []
    return code, out.getvalue(), err.getvalue()


def _assert_clean(
    code: int, err: str, allowed: tuple[int, ...], files: tuple[str, ...]
) -> None:
    """Exit code allowed; every stderr line is a problem of one of the files."""
    assert "Traceback" not in err, err
    assert "internal error" not in err, err
    assert code in allowed, f"exit {code}:\n{err}"
    heads = tuple(
        f"{head}{file}" for file in files for head in ("", "warning: ", "probesim: ")
    )
    for line in err.splitlines():
        assert line.startswith(heads), f"a stderr line that is no problem: {line!r}"


def _check_file(data: bytes) -> None:
    """A file through ``load_scenario`` and ``probesim validate`` / ``run``."""
    STATS["inputs"] += 1
    try:
        text: str | None = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
        STATS["input:not utf-8"] += 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_bytes(data)
        readable = text is not None and _read(text, str(path))
        try:
            sim.load_scenario(path)
        except ScenarioError as error:
            assert not readable, "from_yaml reads what load_scenario refuses"
            _check_problems(error.problems, str(path), text or "")
        else:
            assert readable, "load_scenario reads what from_yaml refuses"
        STATS[f"outcome:{'read' if readable else 'refused'}"] += 1

        code, _, err = _cli(["validate", str(path)])
        _assert_clean(code, err, (0, 2) if readable else (2,), (str(path),))
        if not readable:
            assert f"{path}" in err, err
            out = Path(folder) / "out"
            code, stdout, err = _cli(["run", str(path), "--out", str(out)])
            _assert_clean(code, err, (2,), (str(path),))
            assert stdout == ""
            assert not out.exists()
            assert sorted(p.name for p in Path(folder).iterdir()) == ["fuzz.yaml"]


# ---------------------------------------------------------------------------
# Tests


@st.composite
def scenario_files(draw: st.DrawFn) -> bytes:
    return _corrupt_bytes(draw, draw(mutated(tuple(SEEDS.values()))))


@_settings(1.0)
@given(data=scenario_files())
def test_mutated_scenario_files_read_or_fail_cleanly(data: bytes) -> None:
    STATS["route:mutated scenario"] += 1
    _check_file(data)


@_settings(0.4)
@given(text=from_scratch())
def test_texts_from_scratch_read_or_fail_cleanly(text: str) -> None:
    STATS["route:from scratch"] += 1
    _check_file(text.encode("utf-8"))


@_settings(0.1)
@given(text=mutated((SWEEP_SEED,)))
def test_mutated_sweep_files_read_or_fail_cleanly(text: str) -> None:
    STATS["route:mutated sweep"] += 1
    STATS["inputs"] += 1
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(SWEEP_BASE, folder)
        path = Path(folder) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8")
        files = {str(path), str(Path(folder) / SWEEP_BASE.name)}
        try:
            sim.load_sweep(path)
        except ScenarioError as error:
            refused = True
            for problem in error.problems:
                assert problem.file in files, str(problem)
                assert problem.line >= 1 or problem.path == "", str(problem)
        else:
            refused = False
        STATS[f"outcome:{'refused' if refused else 'read'}"] += 1
        if refused:
            out = Path(folder) / "out"
            code, _, err = _cli(["sweep", str(path), "--out", str(out)])
            _assert_clean(code, err, (2,), tuple(files))
            assert not out.exists()


def test_every_seed_file_reads() -> None:
    """The fuzz's premise: every seed file reads before it is mutated."""
    for name, text in SEEDS.items():
        assert _read(text, name), name
