"""ServiceAccount admission (plugin/pkg/admission/serviceaccount), as pure functions.

``admit`` takes a pod as submitted and the namespace's accounts and secrets, and
returns either the pod as the API server stores it (account defaulted, pull secrets
copied, the token volume mounted) or the reason it is refused (R10.1 to R10.5).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from sim.scenario.spec import (
    SERVICE_ACCOUNT_NAME_ANNOTATION,
    ObjectMeta,
    Pod,
    Secret,
    SecretType,
    ServiceAccount,
    Volume,
    VolumeKind,
    VolumeMount,
)

TOKEN_MOUNT_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"
TOKEN_VOLUME_PREFIX = "kube-api-access-"
DEFAULT_ACCOUNT = "default"
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


@dataclass(frozen=True)
class Rejection:
    """Why the API server refused a pod (403 Forbidden)."""

    message: str


def default_account(namespace: str) -> ServiceAccount:
    """The ``default`` account every namespace has."""
    return ServiceAccount(ObjectMeta(DEFAULT_ACCOUNT, namespace))


def _token_volume_name(pod: Pod) -> str:
    # The real suffix is random; a hash of the uid keeps runs reproducible.
    digest = hashlib.sha256(pod.metadata.uid.encode()).digest()
    suffix = "".join(_SUFFIX_ALPHABET[b % len(_SUFFIX_ALPHABET)] for b in digest[:5])
    return TOKEN_VOLUME_PREFIX + suffix


def _forbidden(pod: Pod, detail: str) -> Rejection:
    return Rejection(f'pods "{pod.name}" is forbidden: {detail}')


def admit(pod: Pod, accounts: Mapping[str, ServiceAccount]) -> Pod | Rejection:
    """Admit a pod at creation: the stored pod, or a ``Rejection``.

    Parameters
    ----------
    pod
        The pod as submitted.
    accounts
        The service accounts of the pod's namespace by name (``default`` included).
    """
    # R10.1: no account named means the namespace's default account.
    name = pod.service_account_name or DEFAULT_ACCOUNT
    pod = dataclasses.replace(pod, service_account_name=name)

    # R10.2: the account must exist, or the create is refused.
    account = accounts.get(name)
    if account is None:
        namespace = pod.metadata.namespace
        return _forbidden(
            pod,
            f"error looking up service account {namespace}/{name}: "
            f'serviceaccount "{name}" not found',
        )

    # R10.5: an account that enforces mountable secrets limits what pods use.
    if account.enforces_mountable_secrets:
        refused = _unlisted_secret(pod, account)
        if refused is not None:
            return _forbidden(pod, refused)

    # R10.3: mount the API token unless the pod, then the account, says no.
    automount = pod.automount_service_account_token
    if automount is None:
        automount = account.automount_service_account_token
    if automount is None or automount:
        pod = _mount_token(pod)

    # R10.4: the account's pull secrets, only when the pod lists none.
    if not pod.image_pull_secrets and account.image_pull_secrets:
        pod = dataclasses.replace(pod, image_pull_secrets=account.image_pull_secrets)
    return pod


def _unlisted_secret(pod: Pod, account: ServiceAccount) -> str | None:
    """R10.5: the first secret the pod uses that the account does not list."""
    allowed = set(account.secrets)
    reason = f"because service account {account.name} does not reference that secret"
    for volume in pod.volumes:
        for secret in volume.secret_names:
            if secret not in allowed:
                return (
                    f'volume with secret.secretName="{secret}" is not allowed {reason}'
                )
    for container, secret in pod.env_secret_refs:
        if secret not in allowed:
            return (
                f"container {container} with envVar referencing secret.secretName="
                f'"{secret}" is not allowed {reason}'
            )
    pull_allowed = set(account.image_pull_secrets)
    for secret in pod.image_pull_secrets:
        if secret not in pull_allowed:
            return (
                f'imagePullSecrets with name="{secret}" is not allowed because '
                f"service account {account.name} does not reference that "
                "imagePullSecret"
            )
    return None


def _mount_token(pod: Pod) -> Pod:
    """R10.3: add the projected token volume, mounted where nothing else is."""
    if any(v.name.startswith(TOKEN_VOLUME_PREFIX) for v in pod.volumes):
        return pod
    volume = Volume(_token_volume_name(pod), VolumeKind.PROJECTED)
    mount = VolumeMount(volume.name, TOKEN_MOUNT_PATH, read_only=True)

    def with_mount(containers):
        return tuple(
            c
            if any(m.mount_path == TOKEN_MOUNT_PATH for m in c.volume_mounts)
            else dataclasses.replace(c, volume_mounts=(*c.volume_mounts, mount))
            for c in containers
        )

    return dataclasses.replace(
        pod,
        volumes=(*pod.volumes, volume),
        containers=with_mount(pod.containers),
        init_containers=with_mount(pod.init_containers),
    )


def update_refused(pod: Pod, new_account: str) -> Rejection | None:
    """Changing the account of an existing pod is refused: the field is immutable."""
    if new_account == pod.service_account_name:
        return None
    return Rejection(
        f'The Pod "{pod.name}" is invalid: spec: Forbidden: pod updates may not '
        "change fields other than `spec.containers[*].image`, "
        "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, "
        "`spec.tolerations` (only additions to existing tolerations), "
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
        "previously negative)"
    )


def populate_tokens(
    secrets: Mapping[str, Secret], accounts: Mapping[str, ServiceAccount]
) -> tuple[dict[str, Secret], list[str]]:
    """The token controller: fill account token secrets, drop orphaned ones.

    A ``kubernetes.io/service-account-token`` secret whose account exists gets a
    ``token``, ``ca.crt`` and ``namespace``; one whose account does not exist is
    deleted. Returns the secrets that remain and the names of those removed.
    """
    kept: dict[str, Secret] = {}
    removed: list[str] = []
    for name, secret in secrets.items():
        if secret.type != SecretType.SERVICE_ACCOUNT_TOKEN.value:
            kept[name] = secret
            continue
        account = secret.annotation(SERVICE_ACCOUNT_NAME_ANNOTATION)
        if account not in accounts:
            removed.append(name)
            continue
        token = hashlib.sha256(f"{secret.metadata.uid}/{account}".encode()).hexdigest()
        data = dict(secret.data)
        data.setdefault("ca.crt", b"-----BEGIN CERTIFICATE-----\n(simulated)\n")
        data.setdefault("namespace", secret.metadata.namespace.encode())
        data.setdefault("token", f"simulated.{token}".encode())
        kept[name] = dataclasses.replace(secret, data=tuple(sorted(data.items())))
    return kept, removed
