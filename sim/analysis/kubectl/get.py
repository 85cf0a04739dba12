"""``kubectl get pods|serviceaccounts|secrets``: the printer's tables.

Pods are read at the instant (``Instant``); ServiceAccounts and Secrets are the
API server's (``result.objects``: the ``default`` account included, token secrets
as the token controller left them), which exist from t = 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from sim.analysis.humanize import since
from sim.analysis.kubectl.instant import (
    NO_RESOURCES,
    TERMINAL_PHASES,
    Instant,
    PodView,
)
from sim.analysis.kubectl.tabwriter import GET_LAYOUT, tabwrite

if TYPE_CHECKING:
    from sim.simulation import SimulationResult


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A ``kubectl get`` table, or kubectl's message when there are no rows."""
    lines = ["\t".join(row) for row in rows]
    if not lines:
        return NO_RESOURCES + "\n"
    return tabwrite("\n".join(["\t".join(header), *lines, ""]), **GET_LAYOUT)


def _pod_row(view: PodView, at: float) -> list[str]:
    """One row of ``kubectl get pods`` (the printer's ``printPod``)."""
    status = view.status
    total = len(view.pod.containers)
    phase = status.phase if status is not None else "Pending"
    reason = phase
    ready = restarts = 0
    last_restart: float | None = None
    has_running = False
    for container in reversed(status.containers if status is not None else ()):
        restarts += container.restart_count
        if container.last_state is not None:
            finished = container.last_state.finished_at
            last_restart = max(finished, last_restart or finished)
        if container.state in ("waiting", "terminated") and container.reason:
            reason = container.reason
        elif container.state == "terminated":
            reason = f"ExitCode:{container.exit_code}"
        elif container.ready and container.state == "running":
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        reason = "Running" if status is not None and status.ready else "NotReady"
    deleting = status is not None and status.deletion_timestamp is not None
    if deleting and phase not in TERMINAL_PHASES:
        reason = "Terminating"
    restart_text = str(restarts)
    if restarts and last_restart is not None:
        restart_text = f"{restarts} ({since(at, last_restart)} ago)"
    age = since(at, view.created_at or 0.0)
    return [view.pod.name, f"{ready}/{total}", reason, restart_text, age]


def get_pods(
    result: SimulationResult, at_seconds: float, pods: Sequence[str] | None = None
) -> str:
    """Return what ``kubectl get pods`` prints at ``at_seconds``.

    Parameters
    ----------
    result
        A finished run that reached ``at_seconds``.
    at_seconds
        The instant, on the scenario clock.
    pods
        Only these pods (all when None); pods that do not exist at that instant
        (not created yet, refused by admission, deleted) are never listed.
    """
    instant = Instant(result, at_seconds)
    wanted = instant.names() if pods is None else sorted(pods)
    views = [instant.pod(name) for name in wanted]
    rows = [_pod_row(view, at_seconds) for view in views if view.exists]
    return _table(("NAME", "READY", "STATUS", "RESTARTS", "AGE"), rows)


def get_serviceaccounts(result: SimulationResult, at_seconds: float) -> str:
    """Return what ``kubectl get serviceaccounts`` prints at ``at_seconds``.

    The API server's accounts (``default`` included); SECRETS is the length of an
    account's ``secrets`` list.
    """
    age = since(at_seconds, 0.0)
    accounts = result.objects.service_accounts
    rows = [
        [name, str(len(account.secrets)), age]
        for name, account in sorted(accounts.items())
    ]
    return _table(("NAME", "SECRETS", "AGE"), rows)


def get_secrets(result: SimulationResult, at_seconds: float) -> str:
    """Return what ``kubectl get secrets`` prints at ``at_seconds``.

    The API server's secrets after the token controller (those it removed are
    absent); DATA is the number of keys of ``data`` (``stringData`` merged in).
    """
    age = since(at_seconds, 0.0)
    secrets = result.objects.secrets
    rows = [
        [name, secret.type or "Opaque", str(len(secret.data)), age]
        for name, secret in sorted(secrets.items())
    ]
    return _table(("NAME", "TYPE", "DATA", "AGE"), rows)
