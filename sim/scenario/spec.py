"""Typed, defaulted, validated Kubernetes objects as the model consumes them.

Everything here is frozen: the reader builds these values once, after applying the API
server's defaults (R2.1, R2.2) and validation (R2.3), and nobody mutates them. Field
names follow the Kubernetes API in snake case, with the unit in the name where the
API has one (``period_seconds``).
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field


class ProbeType(enum.Enum):
    """The three kinds of container probe."""

    STARTUP = "startup"
    LIVENESS = "liveness"
    READINESS = "readiness"

    @property
    def title(self) -> str:
        """Name as the kubelet writes it in events (``Liveness``)."""
        return self.value.capitalize()


class RestartPolicy(enum.Enum):
    """Pod ``restartPolicy``."""

    ALWAYS = "Always"
    ON_FAILURE = "OnFailure"
    NEVER = "Never"


class PullPolicy(enum.Enum):
    """Container ``imagePullPolicy``."""

    ALWAYS = "Always"
    IF_NOT_PRESENT = "IfNotPresent"
    NEVER = "Never"


class URIScheme(enum.Enum):
    """``httpGet.scheme``."""

    HTTP = "HTTP"
    HTTPS = "HTTPS"


@dataclass(frozen=True)
class ExecAction:
    """Run a command inside the container (no shell unless the command is one)."""

    command: tuple[str, ...]


@dataclass(frozen=True)
class HTTPHeader:
    """One request header of an ``httpGet`` probe."""

    name: str
    value: str


@dataclass(frozen=True)
class HTTPGetAction:
    """An HTTP GET against the pod (or ``host``)."""

    port: int | str
    path: str = "/"
    host: str = ""
    scheme: URIScheme = URIScheme.HTTP
    http_headers: tuple[HTTPHeader, ...] = ()


@dataclass(frozen=True)
class TCPSocketAction:
    """A TCP connect to the pod (or ``host``)."""

    port: int | str
    host: str = ""


@dataclass(frozen=True)
class GRPCAction:
    """A grpc.health.v1 Check call."""

    port: int
    service: str = ""


@dataclass(frozen=True)
class SleepAction:
    """The ``sleep`` lifecycle handler (preStop only)."""

    seconds: int


ProbeHandler = ExecAction | HTTPGetAction | TCPSocketAction | GRPCAction
LifecycleHandler = ExecAction | HTTPGetAction | TCPSocketAction | SleepAction


@dataclass(frozen=True)
class Probe:
    """A container probe after R2.1 defaults."""

    handler: ProbeHandler
    initial_delay_seconds: int = 0
    timeout_seconds: int = 1
    period_seconds: int = 10
    success_threshold: int = 1
    failure_threshold: int = 3
    termination_grace_period_seconds: int | None = None


@dataclass(frozen=True)
class ContainerPort:
    """One entry of a container's ``ports``."""

    container_port: int
    name: str = ""
    protocol: str = "TCP"
    host_port: int = 0


@dataclass(frozen=True)
class VolumeMount:
    """One entry of a container's ``volumeMounts``."""

    name: str
    mount_path: str
    read_only: bool = False


class VolumeKind(enum.Enum):
    """The source of a pod volume, as far as admission cares."""

    SECRET = "secret"
    PROJECTED = "projected"
    OTHER = "other"


@dataclass(frozen=True)
class Volume:
    """One entry of ``spec.volumes``: its name and the secrets it reads."""

    name: str
    kind: VolumeKind = VolumeKind.OTHER
    secret_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Container:
    """A container of a pod, as far as the model needs it."""

    name: str
    image: str
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    ports: tuple[ContainerPort, ...] = ()
    image_pull_policy: PullPolicy = PullPolicy.IF_NOT_PRESENT
    liveness_probe: Probe | None = None
    readiness_probe: Probe | None = None
    startup_probe: Probe | None = None
    pre_stop: LifecycleHandler | None = None
    env: tuple[tuple[str, str], ...] = ()
    volume_mounts: tuple[VolumeMount, ...] = ()

    def probe(self, probe_type: ProbeType) -> Probe | None:
        """Return the probe of the given type, or None."""
        if probe_type is ProbeType.STARTUP:
            return self.startup_probe
        if probe_type is ProbeType.LIVENESS:
            return self.liveness_probe
        return self.readiness_probe

    @property
    def spec_hash(self) -> str:
        """Stable hash of the container spec, as the kubelet keys restarts by it.

        A change of image (or any other field) gives a new hash: the kubelet kills and
        restarts the container (R5.1) and the CrashLoopBackOff key is fresh (R6.2).
        """
        return hashlib.sha256(repr(self).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ObjectMeta:
    """The parts of ``metadata`` the model uses."""

    name: str
    namespace: str = "default"
    uid: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Pod:
    """A Pod after admission defaults (R2.2)."""

    metadata: ObjectMeta
    containers: tuple[Container, ...]
    restart_policy: RestartPolicy = RestartPolicy.ALWAYS
    termination_grace_period_seconds: int = 30
    readiness_gates: tuple[str, ...] = ()
    service_account_name: str = "default"
    init_containers: tuple[Container, ...] = ()
    automount_service_account_token: bool | None = None
    image_pull_secrets: tuple[str, ...] = ()
    volumes: tuple[Volume, ...] = ()
    env_secret_refs: tuple[tuple[str, str], ...] = ()
    source_line: int = field(default=0, compare=False)

    @property
    def name(self) -> str:
        """The pod's name."""
        return self.metadata.name

    def container(self, name: str) -> Container:
        """Return the container called ``name``."""
        for container in self.containers:
            if container.name == name:
                return container
        raise KeyError(name)


@dataclass(frozen=True)
class RegistryCredential:
    """A user name and password for one registry server, from a pull secret."""

    server: str
    username: str
    password: str


class SecretType(enum.Enum):
    """Secret ``type`` values with a meaning to the model."""

    OPAQUE = "Opaque"
    SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token"
    DOCKERCFG = "kubernetes.io/dockercfg"
    DOCKER_CONFIG_JSON = "kubernetes.io/dockerconfigjson"
    BASIC_AUTH = "kubernetes.io/basic-auth"
    SSH_AUTH = "kubernetes.io/ssh-auth"
    TLS = "kubernetes.io/tls"
    BOOTSTRAP_TOKEN = "bootstrap.kubernetes.io/token"


SERVICE_ACCOUNT_NAME_ANNOTATION = "kubernetes.io/service-account.name"
ENFORCE_MOUNTABLE_SECRETS_ANNOTATION = "kubernetes.io/enforce-mountable-secrets"


@dataclass(frozen=True)
class Secret:
    """A Secret: its type and its keys (values decoded from base64).

    ``credentials`` holds the registry credentials of a ``dockerconfigjson`` or
    ``dockercfg`` secret, decoded by the reader.
    """

    metadata: ObjectMeta
    type: str = SecretType.OPAQUE.value
    data: tuple[tuple[str, bytes], ...] = ()
    credentials: tuple[RegistryCredential, ...] = ()
    source_line: int = field(default=0, compare=False)

    @property
    def name(self) -> str:
        """The secret's name."""
        return self.metadata.name

    def annotation(self, key: str) -> str | None:
        """The value of one annotation, or None."""
        return dict(self.metadata.annotations).get(key)


@dataclass(frozen=True)
class ServiceAccount:
    """A ServiceAccount: token automounting, pull secrets, mountable secrets."""

    metadata: ObjectMeta
    automount_service_account_token: bool | None = None
    image_pull_secrets: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    source_line: int = field(default=0, compare=False)

    @property
    def name(self) -> str:
        """The account's name."""
        return self.metadata.name

    @property
    def enforces_mountable_secrets(self) -> bool:
        """R10.5: whether pods may only use the secrets this account lists."""
        annotations = dict(self.metadata.annotations)
        return annotations.get(ENFORCE_MOUNTABLE_SECRETS_ANNOTATION) == "true"


@dataclass(frozen=True)
class KubeObject:
    """A manifest the model does not simulate yet (kept for the resolved output)."""

    kind: str
    name: str
    body: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class ServicePort:
    """One port of a Service: the port clients use and the pod port it reaches.

    ``target_port`` is a number or the name of a container port, resolved per pod
    (R2.5).
    """

    port: int
    target_port: int | str
    name: str = ""
    protocol: str = "TCP"


@dataclass(frozen=True)
class Service:
    """A Service with a selector: its pods are its endpoints (R9)."""

    metadata: ObjectMeta
    selector: tuple[tuple[str, str], ...]
    ports: tuple[ServicePort, ...]
    publish_not_ready_addresses: bool = False
    type: str = "ClusterIP"
    source_line: int = field(default=0, compare=False)

    @property
    def name(self) -> str:
        """The service's name."""
        return self.metadata.name

    def selects(self, labels: tuple[tuple[str, str], ...]) -> bool:
        """Whether a pod with these labels is selected (an empty selector: none)."""
        if not self.selector:
            return False
        have = dict(labels)
        return all(have.get(key) == value for key, value in self.selector)


class DeploymentStrategyType(enum.Enum):
    """``spec.strategy.type`` of a Deployment."""

    ROLLING_UPDATE = "RollingUpdate"
    RECREATE = "Recreate"


@dataclass(frozen=True)
class Deployment:
    """A Deployment after API defaults.

    ``template`` is the pod template as a ``Pod`` whose metadata carries the
    template's labels (its name is the Deployment's); ``max_surge`` and
    ``max_unavailable`` keep the API's int-or-percent form ("25%").
    """

    metadata: ObjectMeta
    template: Pod
    replicas: int = 1
    selector: tuple[tuple[str, str], ...] = ()
    strategy: DeploymentStrategyType = DeploymentStrategyType.ROLLING_UPDATE
    max_surge: int | str = "25%"
    max_unavailable: int | str = "25%"
    min_ready_seconds: int = 0
    progress_deadline_seconds: int = 600
    source_line: int = field(default=0, compare=False)

    @property
    def name(self) -> str:
        """The deployment's name."""
        return self.metadata.name
