"""The image manager (images/image_manager.go): pull policy, registries, back-off.

``ensure_image_exists`` runs before every container start (R5.2). It honours the pull
policy, pulls through the node's single pull queue (pulls are serialised per node by
default), authenticates with the pod's pull secrets, and keeps a back-off per pod and
image after failed pulls (R8.1): the next pull waits until the back-off since the
failure has passed, and meanwhile the container shows ``ImagePullBackOff``.
"""

from __future__ import annotations

import enum
from collections.abc import Generator, Mapping
from dataclasses import dataclass

import simpy

from sim.kube.apiserver import PodObject
from sim.kube.backoff import Backoff
from sim.scenario.document import ClusterSpec, PullFailure, RegistrySpec
from sim.scenario.spec import Container, PullPolicy, RegistryCredential, Secret
from sim.trace import EventRecord, Reason, Recorder

# kubelet.go imageBackOffPeriod and MaxImageBackOff; entries expire after 600 s.
IMAGE_BACKOFF_INITIAL_SECONDS = 10.0
IMAGE_BACKOFF_MAX_SECONDS = 300.0
IMAGE_BACKOFF_RESET_SECONDS = 600.0
DOCKER_HUB = "docker.io"


class PullError(enum.Enum):
    """Waiting reasons of a container whose image is not there."""

    ERR_IMAGE_PULL = "ErrImagePull"
    IMAGE_PULL_BACK_OFF = "ImagePullBackOff"
    ERR_IMAGE_NEVER_PULL = "ErrImageNeverPull"


@dataclass(frozen=True)
class PullOutcome:
    """Whether the image is ready; if not, the waiting reason and its message."""

    error: PullError | None = None
    message: str = ""


READY = PullOutcome()


def registry_host(image: str) -> str:
    """The registry server of an image reference (``docker.io`` when none)."""
    first, _, rest = image.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first
    return DOCKER_HUB


class ImageManager:
    """Images on the node and the pulls that bring them."""

    def __init__(
        self,
        env: simpy.Environment,
        cluster: ClusterSpec,
        registries: tuple[RegistrySpec, ...],
        recorder: Recorder,
    ) -> None:
        self.env = env
        self.cluster = cluster
        self.recorder = recorder
        self.registries = {r.server: r for r in registries}
        self.present: set[str] = set()
        self.backoff = Backoff(
            IMAGE_BACKOFF_INITIAL_SECONDS,
            IMAGE_BACKOFF_MAX_SECONDS,
            IMAGE_BACKOFF_RESET_SECONDS,
        )
        self._pull_queue = simpy.Resource(env, capacity=1)

    def _event(
        self, pod: PodObject, container: str, reason: Reason, count: int, text: str
    ) -> None:
        self.recorder.record(
            EventRecord(
                self.env.now, pod.name, container, reason,
                restart_count=count, message=text,
            )
        )  # fmt: skip

    def is_present(self, image: str) -> bool:
        """Whether the image is on the node."""
        return self.cluster.images_present or image in self.present

    def ensure_image_exists(
        self,
        pod: PodObject,
        container: Container,
        restart_count: int,
        credentials: tuple[RegistryCredential, ...],
    ) -> Generator[simpy.Event, object, PullOutcome]:
        """Make sure the container's image is on the node (EnsureImageExists)."""
        image, name = container.image, container.name
        policy = container.image_pull_policy
        present = self.is_present(image)

        # R8.1: Never: the image must already be there.
        if policy is PullPolicy.NEVER and not present:
            text = f'Container image "{image}" is not present with pull policy of Never'
            self._event(pod, name, Reason.FAILED, restart_count, text)
            return PullOutcome(PullError.ERR_IMAGE_NEVER_PULL, text)

        # IfNotPresent (and Never) use what is there; Always asks the registry.
        if present and policy is not PullPolicy.ALWAYS:
            self._event(
                pod, name, Reason.PULLED, restart_count,
                f'Container image "{image}" already present on machine',
            )  # fmt: skip
            return READY

        # R8.1: within the back-off since the last failed pull, do not pull.
        key = (pod.uid, image)
        if self.backoff.is_in_backoff_since_update(key, self.env.now):
            text = f'Back-off pulling image "{image}"'
            self._event(pod, name, Reason.BACK_OFF, restart_count, text)
            self._event(
                pod, name, Reason.FAILED, restart_count, "Error: ImagePullBackOff"
            )
            return PullOutcome(PullError.IMAGE_PULL_BACK_OFF, text)

        self._event(
            pod, name, Reason.PULLING, restart_count, f'Pulling image "{image}"'
        )
        asked = self.env.now
        with self._pull_queue.request() as turn:
            yield turn
            began = self.env.now
            failure, seconds = self._pull(image, credentials, pod)
            yield self.env.timeout(seconds)

        # R8.1: a failed pull advances the back-off, measured from its end.
        if failure is not None:
            self.backoff.next(key, self.env.now, self.env.now)
            text = f'Failed to pull image "{image}": {_failure_text(failure, image)}'
            self._event(pod, name, Reason.FAILED, restart_count, text)
            self._event(pod, name, Reason.FAILED, restart_count, "Error: ErrImagePull")
            return PullOutcome(PullError.ERR_IMAGE_PULL, text)

        self.present.add(image)
        took, waited = self.env.now - began, self.env.now - asked
        self._event(
            pod, name, Reason.PULLED, restart_count,
            f'Successfully pulled image "{image}" in {took:.3f}s '
            f"({waited:.3f}s including waiting)",
        )  # fmt: skip
        return READY

    def pull_credentials(
        self, pod: PodObject, secrets: Mapping[str, Secret]
    ) -> tuple[RegistryCredential, ...]:
        """The registry credentials of the pod's pull secrets (getPullSecretsForPod).

        R10 (kubelet side): read at every sync; a pull secret that cannot be read
        is only a warning on the pod, and pulls go ahead without it.
        """
        found: list[RegistryCredential] = []
        missing = []
        for name in pod.pod.image_pull_secrets:
            secret = secrets.get(name)
            if secret is None:
                missing.append(name)
                continue
            found.extend(secret.credentials)
        if missing:
            self._event(
                pod, "", Reason.FAILED_TO_RETRIEVE_IMAGE_PULL_SECRET, 0,
                f"Unable to retrieve some image pull secrets ({', '.join(missing)}); "
                "attempting to pull the image may not succeed.",
            )  # fmt: skip
        return tuple(found)

    def _pull(
        self,
        image: str,
        credentials: tuple[RegistryCredential, ...],
        pod: PodObject,
    ) -> tuple[PullFailure | None, float]:
        """Outcome and duration of one pull from the image's registry."""
        host = registry_host(image)
        registry = self.registries.get(host)
        latency = (
            registry.pull_latency
            if registry is not None and registry.pull_latency is not None
            else self.cluster.image_pull_latency
        )
        if registry is None:
            return None, latency.sample(pod.rng)
        if registry.unreachable:
            return PullFailure.TIMEOUT, registry.timeout_seconds
        offered = {(c.username, c.password) for c in credentials if c.server == host}
        if registry.private and not offered & set(registry.credentials):
            return PullFailure.UNAUTHORIZED, min(latency.sample(pod.rng), 1.0)
        if image in registry.missing_images:
            return PullFailure.NOT_FOUND, min(latency.sample(pod.rng), 1.0)
        return None, latency.sample(pod.rng)


def _failure_text(failure: PullFailure, image: str) -> str:
    """The runtime's error for a failed pull, as the kubelet's event quotes it."""
    prefix = (
        f'failed to pull and unpack image "{image}": '
        f'failed to resolve reference "{image}"'
    )
    if failure is PullFailure.UNAUTHORIZED:
        return (
            f"rpc error: code = Unknown desc = {prefix}: pull access denied, "
            "repository does not exist or may require authorization: "
            "authorization failed: 401 Unauthorized"
        )
    if failure is PullFailure.NOT_FOUND:
        return f"rpc error: code = NotFound desc = {prefix}: {image}: not found"
    return (
        f"rpc error: code = DeadlineExceeded desc = {prefix}: failed to do request: "
        f"dial tcp {registry_host(image)}:443: i/o timeout"
    )
