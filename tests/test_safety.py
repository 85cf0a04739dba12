"""Scenario files are data only (docs/safety.md).

YAML tags that would build Python objects are refused with exit 2; no module of
``sim/`` imports what starts processes or opens network connections (Dask, for
``probesim sweep --scheduler``, is imported only inside the sweep's executor); and
simulating scenarios whose manifests hold exec probes, ``sh -c`` scripts and preStop
hooks starts no process and opens no socket. ``tests/test_inference.py`` checks the
shell interpreter's modules line by line as well.
"""

from __future__ import annotations

import ast
import os
import socket
import subprocess
import textwrap
from pathlib import Path

import pytest

import sim
from sim.cli import main

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(sim.__file__).parent
SOURCES = sorted(PACKAGE.rglob("*.py"))
# What starts a process or talks to the network; none of it is imported by sim/.
FORBIDDEN_MODULES = (
    "socket",
    "subprocess",
    "urllib.request",
    "http.client",
    "http.server",
    "ftplib",
    "smtplib",
    "requests",
    "urllib3",
    "httpx",
    "aiohttp",
)
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__"}
FORBIDDEN_OS = ("system", "popen", "spawn", "exec", "posix_spawn", "fork")
# The optional Dask executor: imported when a sweep runs on Dask, nowhere else.
DASK_MODULES = ("distributed", "dask")
DASK_HOME = PACKAGE / "sweeps" / "execute.py"


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def imported(tree: ast.AST) -> list[tuple[ast.stmt, str]]:
    """Every module an import statement names, with the statement."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append((node, node.module))
            # from urllib import request, from http import client
            names += [(node, f"{node.module}.{alias.name}") for alias in node.names]
    return names


def names(module: str, candidates: tuple[str, ...]) -> bool:
    return any(module == c or module.startswith(c + ".") for c in candidates)


def test_the_package_sources_are_found():
    assert len(SOURCES) > 50
    assert DASK_HOME in SOURCES


@pytest.mark.parametrize("path", SOURCES, ids=relative)
def test_no_module_starts_processes_or_opens_connections(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node, module in imported(tree):
        assert not names(module, FORBIDDEN_MODULES), (node.lineno, module)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Name):
            assert function.id not in FORBIDDEN_CALLS, (node.lineno, function.id)
        if (
            isinstance(function, ast.Attribute)
            and isinstance(function.value, ast.Name)
            and function.value.id == "os"
        ):
            assert not function.attr.startswith(FORBIDDEN_OS), (
                node.lineno,
                f"os.{function.attr}",
            )


def test_dask_is_imported_only_inside_the_sweep_executor():
    found = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        module_level = set(map(id, tree.body))
        for node, module in imported(tree):
            if names(module, DASK_MODULES):
                found.append((path, id(node) in module_level))
    assert found, "the Dask executor is gone: update this test and docs/safety.md"
    assert {path for path, _ in found} == {DASK_HOME}
    assert not any(top for _, top in found), "Dask imported when sim is imported"


# YAML tags -------------------------------------------------------------------------

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: app
    image: IMAGE
"""
TAGS = [
    "!!python/object/apply:os.system [touch MARKER]",
    "!!python/object:os.system {cmd: touch MARKER}",
    "!!python/name:os.system",
    "!!python/object/new:subprocess.Popen [[touch, MARKER]]",
]


@pytest.mark.parametrize("tag", TAGS, ids=lambda tag: tag.split(" ")[0])
@pytest.mark.parametrize("command", ["validate", "run", "describe"])
def test_a_python_tag_is_refused_with_exit_2(tmp_path, capsys, command, tag):
    marker = tmp_path / "made-by-yaml"
    scenario = tmp_path / "evil.yaml"
    scenario.write_text(POD.replace("IMAGE", tag.replace("MARKER", str(marker))))
    argv = [command, str(scenario)]
    if command == "run":
        argv += ["--out", str(tmp_path / "out")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"{scenario}:7: " in err
    assert f"unsupported YAML tag {tag.split(' ')[0]}" in err
    assert "Traceback" not in err and "internal error" not in err
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


def test_a_python_tag_in_a_sweep_file_is_refused_with_exit_2(tmp_path, capsys):
    marker = tmp_path / "made-by-yaml"
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        textwrap.dedent(
            f"""\
            apiVersion: probesim/v1alpha1
            kind: Sweep
            metadata: {{name: evil}}
            spec:
              scenario: {ROOT / "scenarios" / "liveness-exec.yaml"}
              replications: !!python/object/apply:os.system [touch {marker}]
              parameters:
              - path: duration
                values: [1m]
            """
        )
    )
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{sweep}:6: " in err
    assert "unsupported YAML tag !!python/object/apply:os.system" in err
    assert "Traceback" not in err
    assert not marker.exists()
    assert not (tmp_path / "out").exists()


# Simulating runs nothing -----------------------------------------------------------

# An exec probe, a shell script and a preStop hook that would each leave a file.
COMMANDS = """\
apiVersion: v1
kind: Pod
metadata: {name: commands}
spec:
  containers:
  - name: app
    image: busybox
    command: [sh, -c, "touch MARKER-script; sleep 600"]
    livenessProbe:
      exec: {command: [sh, -c, "touch MARKER-probe"]}
      periodSeconds: 5
    lifecycle:
      preStop:
        exec: {command: [sh, -c, "touch MARKER-prestop"]}
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {name: commands}
spec:
  duration: 2m
  actions:
  - {at: 60s, delete: {pod: commands}}
"""
SHIPPED = [
    "liveness-exec.yaml",
    "readiness-exec.yaml",
    "http-liveness.yaml",
    "tcp-liveness-readiness.yaml",
    "private-reg.yaml",
    "rolling-update-prestop.yaml",
]


class Refused(AssertionError):
    """A process or a connection was asked for."""


@pytest.fixture
def no_processes_no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise Refused(f"asked for: {args!r}")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    for name in ("system", "popen", "fork", "execv", "execve", "posix_spawn"):
        monkeypatch.setattr(os, name, refuse)
    for name in ("socket", "create_connection", "getaddrinfo"):
        monkeypatch.setattr(socket, name, refuse)


def test_simulating_commands_runs_none(tmp_path, no_processes_no_network):
    marker = tmp_path / "marker"
    path = tmp_path / "commands.yaml"
    path.write_text(COMMANDS.replace("MARKER", str(marker)))
    result = sim.simulate(sim.load_scenario(path), seed=1)
    reasons = set(result.events["reason"])
    assert {"Started", "Probe", "Killing"} <= reasons  # probes, the hook, the script
    assert list(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("name", SHIPPED)
def test_simulating_shipped_scenarios_uses_no_process_or_network(
    name, no_processes_no_network
):
    scenario = sim.load_scenario(ROOT / "scenarios" / name)
    result = sim.simulate(scenario.with_duration(90), seed=1)
    assert len(result.events)
