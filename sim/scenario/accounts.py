"""Reading ServiceAccount and Secret manifests, and the registry credentials inside.

A ServiceAccount says whether pods get the API token mounted (R10.3), which pull
secrets pods that list none inherit (R10.4) and which secrets its pods may use
(R10.5). A Secret holds bytes: ``data`` is decoded from base64 as the API server
does (Go's standard encoding, with its error offsets), ``stringData`` is merged over
it, and the type-specific rules of the API server apply. The two Docker types are
decoded further into ``RegistryCredential`` values, which the image puller uses
(R8).

``docker_registry_secret`` builds the Secret that ``kubectl create secret
docker-registry`` would, for the generators of the Scenario document.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sim.scenario.context import INVALID, Ctx
from sim.scenario.fields import (
    Bool,
    Custom,
    Field,
    ListOf,
    MapOf,
    Obj,
    Str,
    Values,
)
from sim.scenario.kubefields import (
    OBJECT_REFERENCE_FIELDS,
    SECRET_FIELDS,
    SERVICE_ACCOUNT_FIELDS,
)
from sim.scenario.names import CONFIG_KEY_PATTERN, config_key
from sim.scenario.pods import (
    LOCAL_OBJECT_REFERENCE,
    derived_uid,
    ignored_fields,
    manifest_head,
    name_reference,
)
from sim.scenario.spec import (
    SERVICE_ACCOUNT_NAME_ANNOTATION,
    ObjectMeta,
    RegistryCredential,
    Secret,
    SecretType,
    ServiceAccount,
)
from sim.scenario.yamlio import is_mapping

ACCOUNT_KINDS = ("ServiceAccount", "Secret")
DOCKER_HUB = "docker.io"
DOCKER_HUB_ALIASES = ("index.docker.io", "registry-1.docker.io")
DEFAULT_DOCKER_SERVER = "https://index.docker.io/v1/"
"""The server ``kubectl create secret docker-registry`` uses when given none."""

REDACTED = "<secret contents redacted>"
"""What the API server shows instead of a secret value in an error."""

# The key holding the Docker configuration of each Docker secret type, and whether
# the servers sit under "auths" (the config.json format) or at the top (.dockercfg).
DOCKER_CONFIG_KEYS = {
    SecretType.DOCKER_CONFIG_JSON.value: (".dockerconfigjson", True),
    SecretType.DOCKERCFG.value: (".dockercfg", False),
}
# Keys the API server requires in a Secret of each type.
REQUIRED_KEYS = {
    SecretType.DOCKER_CONFIG_JSON.value: (".dockerconfigjson",),
    SecretType.DOCKERCFG.value: (".dockercfg",),
    SecretType.SSH_AUTH.value: ("ssh-privatekey",),
    SecretType.TLS.value: ("tls.crt", "tls.key"),
}

_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_B64_VALUE = {c: i for i, c in enumerate(_B64_ALPHABET)}
_NEWLINES = b"\r\n"
_PAD = ord("=")


class Base64Error(ValueError):
    """Base64 text Go's decoder refuses, at byte ``offset`` of the input."""

    def __init__(self, offset: int) -> None:
        self.offset = offset
        super().__init__(f"illegal base64 data at input byte {offset}")


class DockerConfigError(ValueError):
    """A Docker configuration that cannot give registry credentials."""


def decode_base64(text: str) -> bytes:
    """Decode base64 exactly as Go's ``base64.StdEncoding`` does.

    Padding is required, carriage returns and line feeds are skipped anywhere, and
    an error gives the byte offset Go reports, so messages match the API server's.

    Raises
    ------
    Base64Error
        On a character outside the alphabet, bad padding or an incomplete group.
    """
    src = text.encode("utf-8")
    out = bytearray()
    si = 0
    while si < len(src):
        group: list[int] = []
        end_error: int | None = None
        while len(group) < 4:
            if si == len(src):
                if not group:
                    return bytes(out)
                raise Base64Error(si - len(group))
            char = src[si]
            si += 1
            if char in _B64_VALUE:
                group.append(_B64_VALUE[char])
                continue
            if char in _NEWLINES:
                continue
            if char != _PAD or len(group) < 2:
                raise Base64Error(si - 1)
            if len(group) == 2:  # a second "=" must follow
                si = _skip_newlines(src, si)
                if si == len(src):
                    raise Base64Error(len(src))
                if src[si] != _PAD:
                    raise Base64Error(si - 1)
                si += 1
            si = _skip_newlines(src, si)
            if si < len(src):
                end_error = si
            break
        value = 0
        for digit in group + [0] * (4 - len(group)):
            value = value << 6 | digit
        out += value.to_bytes(3, "big")[: len(group) - 1]
        if end_error is not None:
            raise Base64Error(end_error)
    return bytes(out)


def _skip_newlines(src: bytes, si: int) -> int:
    while si < len(src) and src[si] in _NEWLINES:
        si += 1
    return si


def go_json(value: Any) -> bytes:
    """Serialise like Go's ``json.Marshal``: compact, UTF-8, HTML characters escaped."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char in ("<", ">", "&", "\u2028", "\u2029"):
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text.encode("utf-8")


def normalise_server(server: str) -> str:
    """Return the registry a credential or registry entry is for, as a host.

    ``https://`` and ``http://`` are dropped, as are a ``/v1/`` or ``/v2/`` API path
    and a trailing ``/``; Docker Hub's other names become ``docker.io``
    (``https://index.docker.io/v1/`` gives ``docker.io``). A repository path after
    the host is kept (``gcr.io/project``).
    """
    rest = server.strip()
    for scheme in ("https://", "http://"):
        rest = rest.removeprefix(scheme)
    host, _, path = rest.partition("/")
    for api in ("v1/", "v2/"):
        path = path.removeprefix(api)
    path = path.rstrip("/")
    if host in DOCKER_HUB_ALIASES:
        host = DOCKER_HUB
    return f"{host}/{path}" if path else host


def docker_credentials(
    payload: bytes, nested: bool = True
) -> tuple[tuple[RegistryCredential, ...], tuple[str, ...]]:
    """Decode the registry credentials of a Docker configuration.

    Parameters
    ----------
    payload
        The JSON: ``{"auths": {SERVER: ENTRY}}`` when ``nested`` (the value of
        ``.dockerconfigjson``), ``{SERVER: ENTRY}`` otherwise (``.dockercfg``). An
        entry holds ``auth`` (base64 of ``username:password``, which wins, as in the
        kubelet) or ``username`` and ``password``.

    Returns
    -------
    credentials, notes
        One credential per server that has one, servers normalised; notes say what
        gave no credential (an entry with neither form, no ``auths``).

    Raises
    ------
    DockerConfigError
        When the JSON is broken or an entry cannot be read.
    """
    try:
        config = json.loads(payload)
    except ValueError as error:
        raise DockerConfigError(f"invalid JSON: {error}") from None
    where = ""
    if nested:
        if not isinstance(config, dict):
            raise DockerConfigError("must be a JSON object")
        if "auths" not in config:
            return (), ('no "auths": the secret holds no registry credentials',)
        config, where = config["auths"], "auths"
    if not isinstance(config, dict):
        raise DockerConfigError(f"{where or 'the document'} must be a JSON object")
    credentials, notes = [], []
    for server, entry in config.items():
        at = f"{where}[{json.dumps(server)}]"
        login = _login(entry, at)
        if login is None:
            notes.append(
                f"{at} has neither auth nor username and password: no credential "
                f"for {server}"
            )
            continue
        credentials.append(RegistryCredential(normalise_server(server), *login))
    return tuple(credentials), tuple(notes)


def _login(entry: Any, at: str) -> tuple[str, str] | None:
    """The user name and password of one entry, None when it holds neither."""
    if not isinstance(entry, dict):
        raise DockerConfigError(f"{at} must be a JSON object")
    auth = entry.get("auth")
    if auth is not None and not isinstance(auth, str):
        raise DockerConfigError(f"{at}.auth must be a string")
    if auth:
        try:
            text = decode_base64(auth).decode("utf-8", errors="replace")
        except Base64Error as error:
            raise DockerConfigError(f"{at}.auth: {error}") from None
        username, colon, password = text.partition(":")
        if not colon:
            raise DockerConfigError(
                f"{at}.auth: must be formatted as base64(username:password)"
            )
        return username, password
    if "username" not in entry and "password" not in entry:
        return None
    for key in ("username", "password"):
        if not isinstance(entry.get(key, ""), str):
            raise DockerConfigError(f"{at}.{key} must be a string")
    return entry.get("username", ""), entry.get("password", "")


def docker_config_json(server: str, username: str, password: str, email: str) -> bytes:
    """Return the ``.dockerconfigjson`` that kubectl's docker-registry secret holds."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    entry = {"username": username, "password": password, "email": email}
    entry = {key: value for key, value in entry.items() if value} | {"auth": token}
    return go_json({"auths": {server: entry}})


def docker_registry_secret(
    name: str,
    username: str,
    password: str,
    server: str = DEFAULT_DOCKER_SERVER,
    email: str = "",
    namespace: str = "default",
) -> Secret:
    """Return the Secret ``kubectl create secret docker-registry`` would create.

    Parameters
    ----------
    name, namespace
        The secret's name and namespace.
    username, password, server, email
        The ``--docker-*`` flags; ``server`` defaults as kubectl's does.
    """
    payload = docker_config_json(server, username, password, email)
    credentials, _ = docker_credentials(payload)
    return Secret(
        metadata=ObjectMeta(name, namespace, derived_uid(namespace, name)),
        type=SecretType.DOCKER_CONFIG_JSON.value,
        data=((".dockerconfigjson", payload),),
        credentials=credentials,
    )


# Tables --------------------------------------------------------------------------


def _read_base64(ctx: Ctx, value: Any) -> Any:
    if value is None:
        return b""
    if not isinstance(value, str):
        return ctx.invalid(value, "must be a string (base64)")
    try:
        return decode_base64(value)
    except Base64Error as error:
        return ctx.invalid(value, str(error))


BASE64 = Custom(
    _read_base64,
    {"type": "string", "contentEncoding": "base64"},
)


def _build_service_account(values: Values) -> ServiceAccount:
    return ServiceAccount(
        metadata=values["metadata"],
        automount_service_account_token=values["automountServiceAccountToken"],
        image_pull_secrets=values["imagePullSecrets"],
        secrets=values["secrets"],
        source_line=values.ctx.line,
    )


_SERVICE_ACCOUNT_TABLE = (
    *manifest_head("ServiceAccount"),
    Field(
        "automountServiceAccountToken",
        Bool(),
        None,
        "Mount the API token into pods that do not say; unset means yes.",
    ),
    Field(
        "imagePullSecrets",
        ListOf(LOCAL_OBJECT_REFERENCE),
        (),
        "Pull secrets given to pods that list none.",
    ),
    Field(
        "secrets",
        ListOf(name_reference(OBJECT_REFERENCE_FIELDS, "ObjectReference")),
        (),
        "Secrets its pods may use when it enforces mountable secrets.",
    ),
)
SERVICE_ACCOUNT = Obj(
    _SERVICE_ACCOUNT_TABLE,
    ignored=ignored_fields(SERVICE_ACCOUNT_FIELDS, _SERVICE_ACCOUNT_TABLE),
    build=_build_service_account,
    description="A ServiceAccount manifest.",
    schema_name="ServiceAccount",
)


def _merged(values: Values) -> dict[str, tuple[bytes, str]]:
    """The keys of ``data`` and ``stringData``, sorted, with the field each came from.

    ``stringData`` wins over ``data``, as the API server merges them.
    """
    merged = {key: (value, "data") for key, value in values["data"]}
    for key, value in values["stringData"]:
        merged[key] = (value.encode("utf-8"), "stringData")
    return dict(sorted(merged.items()))


def _check_secret(values: Values) -> None:
    """Apply the rules of the secret's type; decode Docker credentials.

    The merged data and the credentials go into ``values.data`` for the builder.
    """
    if not values.ok("type", "data", "stringData", "metadata"):
        return
    secret_type = values["type"] or SecretType.OPAQUE.value
    merged = _merged(values)
    values.data["merged"] = merged
    values.data["credentials"] = ()

    def at(key: str) -> Ctx:
        """Where a key's value is, or the ``data`` field for a missing key."""
        if key not in merged:
            return values.at("data").entry(None, key)
        source = merged[key][1]
        return values.at(source).entry(values.node.get(source), key)

    for key in REQUIRED_KEYS.get(secret_type, ()):
        if key not in merged:
            at(key).required()
    if secret_type == SecretType.SERVICE_ACCOUNT_TOKEN.value:
        annotations = dict(values["metadata"].annotations)
        if not annotations.get(SERVICE_ACCOUNT_NAME_ANNOTATION):
            metadata = values.node["metadata"]
            raw = metadata.get("annotations") if is_mapping(metadata) else None
            where = values.at("metadata").key(metadata, "annotations")
            where.entry(raw, SERVICE_ACCOUNT_NAME_ANNOTATION).required()
    if secret_type not in DOCKER_CONFIG_KEYS:
        return
    key, nested = DOCKER_CONFIG_KEYS[secret_type]
    if key not in merged:
        return
    try:
        credentials, notes = docker_credentials(merged[key][0], nested)
    except DockerConfigError as error:
        at(key).invalid(REDACTED, str(error))
        return
    for note in notes:
        at(key).warn(note)
    values.data["credentials"] = credentials


def _build_secret(values: Values) -> Secret:
    merged = values.data["merged"]
    return Secret(
        metadata=values["metadata"],
        type=values["type"] or SecretType.OPAQUE.value,
        data=tuple((key, value) for key, (value, _) in merged.items()),
        credentials=values.data["credentials"],
        source_line=values.ctx.line,
    )


_KEY_SCHEMA = {"type": "string", "pattern": CONFIG_KEY_PATTERN}
_SECRET_TABLE = (
    *manifest_head("Secret"),
    Field(
        "type",
        Str(),
        SecretType.OPAQUE.value,
        "Secret type; the Docker, TLS, SSH and token types have rules.",
        SecretType.OPAQUE.value,
    ),
    Field("data", MapOf(BASE64, config_key, _KEY_SCHEMA), (), "Base64 values."),
    Field(
        "stringData",
        MapOf(Str(), config_key, _KEY_SCHEMA),
        (),
        "Plain values, merged over data.",
    ),
    Field("immutable", Bool(), None, "Accepted; not used."),
)
SECRET = Obj(
    _SECRET_TABLE,
    ignored=ignored_fields(SECRET_FIELDS, _SECRET_TABLE),
    check=_check_secret,
    build=_build_secret,
    description="A Secret manifest.",
    schema_name="Secret",
)


# The manifests of a file ---------------------------------------------------------


@dataclass
class Accounts:
    """The ServiceAccounts and Secrets of a file, in file order.

    Names are unique per kind and namespace: a second object with the same name is
    an error. The ``default`` account is implicit in every namespace; one given in
    the file takes its place.
    """

    service_accounts: list[ServiceAccount] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)

    def read(self, ctx: Ctx, kind: str, data: Any) -> None:
        """Read one ServiceAccount or Secret document and keep it (errors to ctx)."""
        if kind == "ServiceAccount":
            _keep(ctx, data, SERVICE_ACCOUNT.read(ctx, data), self.service_accounts)
        else:
            _keep(ctx, data, SECRET.read(ctx, data), self.secrets)

    def service_account(self, namespace: str, name: str) -> ServiceAccount | None:
        """Return the ServiceAccount called ``name`` in ``namespace``, or None."""
        return _find(self.service_accounts, namespace, name)

    def secret(self, namespace: str, name: str) -> Secret | None:
        """Return the Secret called ``name`` in ``namespace``, or None."""
        return _find(self.secrets, namespace, name)


_Named = TypeVar("_Named", ServiceAccount, Secret)


def _find(found: list[_Named], namespace: str, name: str) -> _Named | None:
    for value in found:
        if value.metadata.namespace == namespace and value.name == name:
            return value
    return None


def _keep(ctx: Ctx, data: Any, value: Any, found: list[_Named]) -> None:
    """Add a read object unless it failed or its namespace already has its name."""
    if value is INVALID:
        return
    if _find(found, value.metadata.namespace, value.name) is not None:
        metadata = data["metadata"]
        ctx.key(data, "metadata").key(metadata, "name").duplicate(value.name)
        return
    found.append(value)
