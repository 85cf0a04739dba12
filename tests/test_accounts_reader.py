"""Service accounts, secrets, registries and the pod fields that refer to them.

The manifests of the Kubernetes task pages on service accounts and private registries
must read as written; secret data is decoded as the API server decodes it; a
generated docker-registry secret is byte for byte the one kubectl makes. Malformed
inputs are whole files in which the line the error must point at carries a ``#!``
comment.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from readercases import FILE, assert_reported, errors_of, marked_line

from sim.scenario import Scenario, read_scenario_text
from sim.scenario.accounts import (
    SECRET,
    SERVICE_ACCOUNT,
    Base64Error,
    decode_base64,
    docker_credentials,
    docker_registry_secret,
    normalise_server,
)
from sim.scenario.behaviour import Distribution, DistributionKind
from sim.scenario.document import ActionKind, RegistrySpec
from sim.scenario.resolved import resolved_yaml
from sim.scenario.schema import scenario_json_schema
from sim.scenario.spec import (
    RegistryCredential,
    SecretType,
    Volume,
    VolumeKind,
    VolumeMount,
)

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: app
    image: registry.example.com/team/app:v1
"""
SCENARIO_HEAD = """\
---
apiVersion: probesim/v1alpha1
kind: Scenario
metadata: {name: demo}
spec:
"""


def read(text: str) -> Scenario:
    """Read a scenario text as the file ``case.yaml``."""
    return read_scenario_text(text, FILE)


def scenario(spec: str, manifests: str = POD) -> str:
    """The manifests plus a Scenario document named ``demo`` with these spec lines."""
    return manifests + SCENARIO_HEAD + textwrap.indent(textwrap.dedent(spec), "  ")


def pod_with(container: str = "", spec: str = "") -> str:
    """The pod ``web`` with extra container lines and extra spec lines."""
    text = POD + textwrap.indent(textwrap.dedent(container), "    ")
    return text + textwrap.indent(textwrap.dedent(spec), "  ")


def b64(text: str | bytes) -> str:
    """Base64 of a text, as a manifest writes it."""
    raw = text.encode() if isinstance(text, str) else text
    return base64.b64encode(raw).decode()


def _without_lines(s: Scenario) -> Scenario:
    return dataclasses.replace(
        s,
        pods=tuple(dataclasses.replace(p, source_line=0) for p in s.pods),
        actions=tuple(dataclasses.replace(a, source_line=0) for a in s.actions),
    )


# The task pages' manifests -------------------------------------------------------

REGCRED_JSON = (
    '{"auths":{"yourprivateregistry.com":{"username":"janedoe",'
    '"password":"xxxxxxxxxxx","email":"jdoe@example.com",'
    f'"auth":"{b64("janedoe:xxxxxxxxxxx")}"}}}}}}'
)
HUB_JSON = '{"auths":{"https://index.docker.io/v1/":{"auth":"' + b64("me:pw") + '"}}}'
SEED = f"""\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: build-robot
automountServiceAccountToken: false
---
apiVersion: v1
kind: Secret
metadata:
  name: build-robot-secret
  annotations:
    kubernetes.io/service-account.name: build-robot
type: kubernetes.io/service-account-token
---
apiVersion: v1
kind: ServiceAccount
metadata:
  creationTimestamp: 2015-08-07T22:02:39Z
  name: default
  namespace: default
  selfLink: /api/v1/namespaces/default/serviceaccounts/default
  uid: 052fb0f4-3d50-11e5-b066-42010af0d7b6
secrets:
- name: default-token-uudge
imagePullSecrets:
- name: myregistrykey
---
apiVersion: v1
kind: Secret
metadata:
  name: myregistrykey
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: {b64(HUB_JSON)}
---
apiVersion: v1
data:
  .dockerconfigjson: {b64(REGCRED_JSON)}
kind: Secret
metadata:
  name: regcred
type: kubernetes.io/dockerconfigjson
---
apiVersion: v1
kind: Pod
metadata:
  name: my-pod
spec:
  serviceAccountName: build-robot
  automountServiceAccountToken: false
  containers:
  - name: app
    image: registry.k8s.io/pause:3.9
---
apiVersion: v1
kind: Pod
metadata:
  name: private-reg
spec:
  containers:
  - name: private-reg-container
    image: janedoe/jdoe-private:v1
  imagePullSecrets:
  - name: regcred
"""


def test_seed_service_accounts() -> None:
    s = read(SEED)
    robot, default = s.service_accounts
    assert robot.name == "build-robot"
    assert robot.automount_service_account_token is False
    assert robot.image_pull_secrets == ()
    assert robot.source_line == 1
    assert default.name == "default"
    assert default.metadata.uid == "052fb0f4-3d50-11e5-b066-42010af0d7b6"
    assert default.automount_service_account_token is None
    assert default.image_pull_secrets == ("myregistrykey",)
    assert default.secrets == ("default-token-uudge",)
    assert not default.enforces_mountable_secrets
    assert not any("not simulated" in w for w in s.warnings), s.warnings


def test_seed_secrets() -> None:
    s = read(SEED)
    token, hub, regcred = s.secrets
    assert token.type == SecretType.SERVICE_ACCOUNT_TOKEN.value
    assert token.annotation("kubernetes.io/service-account.name") == "build-robot"
    assert token.data == ()
    assert hub.credentials == (RegistryCredential("docker.io", "me", "pw"),)
    assert regcred.type == "kubernetes.io/dockerconfigjson"
    assert regcred.data == ((".dockerconfigjson", REGCRED_JSON.encode()),)
    assert regcred.credentials == (
        RegistryCredential("yourprivateregistry.com", "janedoe", "xxxxxxxxxxx"),
    )


def test_seed_pods() -> None:
    s = read(SEED)
    my_pod, private = s.pods
    assert my_pod.service_account_name == "build-robot"
    assert my_pod.automount_service_account_token is False
    assert private.image_pull_secrets == ("regcred",)
    assert private.automount_service_account_token is None
    assert private.service_account_name == "default"


def test_secret_defaults_and_string_data() -> None:
    text = POD + (
        "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
        f"data: {{b: {b64('from data')}, a: {b64('old')}}}\n"
        "stringData: {a: new, c: plain}\nimmutable: true\n"
    )
    secret = read(text).secrets[0]
    assert secret.type == "Opaque"
    assert secret.data == (("a", b"new"), ("b", b"from data"), ("c", b"plain"))
    assert secret.credentials == ()


def test_dockercfg_old_format() -> None:
    config = {"https://registry.example.com/v1/": {"username": "u", "password": "p"}}
    text = POD + (
        "---\napiVersion: v1\nkind: Secret\nmetadata: {name: old}\n"
        "type: kubernetes.io/dockercfg\n"
        f"data: {{.dockercfg: {b64(json.dumps(config))}}}\n"
    )
    secret = read(text).secrets[0]
    assert secret.credentials == (RegistryCredential("registry.example.com", "u", "p"),)


def test_auth_wins_over_username_and_password() -> None:
    config = {"auths": {"r.io": {"username": "a", "password": "b", "auth": b64("c:d")}}}
    credentials, notes = docker_credentials(json.dumps(config).encode())
    assert credentials == (RegistryCredential("r.io", "c", "d"),)
    assert notes == ()


def test_entry_without_credentials_warns() -> None:
    config = '{"auths": {"https://index.docker.io/v1/": {}}}'
    text = POD + (
        "---\napiVersion: v1\nkind: Secret\nmetadata: {name: store}\n"
        "type: kubernetes.io/dockerconfigjson\n"
        f"stringData:\n  .dockerconfigjson: '{config}'\n"
    )
    s = read(text)
    assert s.secrets[0].credentials == ()
    assert (
        'case.yaml:15: Secret "store": stringData[.dockerconfigjson]: '
        'auths["https://index.docker.io/v1/"] has neither auth nor username and '
        "password: no credential for https://index.docker.io/v1/" in s.warnings
    )


@pytest.mark.parametrize(
    ("server", "normalised"),
    [
        ("https://index.docker.io/v1/", "docker.io"),
        ("index.docker.io", "docker.io"),
        ("registry-1.docker.io", "docker.io"),
        ("docker.io", "docker.io"),
        ("http://localhost:5000/", "localhost:5000"),
        ("https://registry.example.com/v2/", "registry.example.com"),
        ("registry.example.com", "registry.example.com"),
        ("gcr.io/project/", "gcr.io/project"),
    ],
)
def test_normalise_server(server: str, normalised: str) -> None:
    assert normalise_server(server) == normalised


# Base64 as Go decodes it -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("YWJj!", 4),  # a character outside the alphabet
        ("abc", 0),  # an incomplete last group
        ("YQ=", 3),  # one "=" where two are needed
        ("YW=j", 2),  # "=" followed by data
        ("a===", 1),  # padding too early
        ("YQ==YQ==", 4),  # data after the padding
        ("YWJj ZGVm", 4),  # spaces are not skipped
    ],
)
def test_base64_errors_match_go(text: str, offset: int) -> None:
    with pytest.raises(Base64Error) as info:
        decode_base64(text)
    assert info.value.offset == offset
    assert str(info.value) == f"illegal base64 data at input byte {offset}"


def test_base64_newlines_are_skipped() -> None:
    assert decode_base64("YW\r\nJj\nZA=\n=\n") == b"abcd"


@given(st.binary(max_size=64))
def test_base64_decodes_what_python_encodes(data: bytes) -> None:
    assert decode_base64(base64.b64encode(data).decode()) == data


# kubectl create secret docker-registry -------------------------------------------


def test_generator_matches_kubectl() -> None:
    text = scenario(
        """\
        secrets:
        - dockerRegistry:  #!
            name: regcred
            server: yourprivateregistry.com
            username: janedoe
            password: xxxxxxxxxxx
            email: jdoe@example.com
        """,
        manifests=SEED.replace("name: regcred\n", "name: regcred-manifest\n"),
    )
    s = read(text)
    generated = s.secrets[-1]
    assert generated.name == "regcred"
    assert generated.type == "kubernetes.io/dockerconfigjson"
    # What `kubectl get secret regcred -o jsonpath={.data..dockerconfigjson} |
    # base64 -d` prints for the task page's command.
    assert dict(generated.data)[".dockerconfigjson"].decode() == REGCRED_JSON
    manifest = next(x for x in s.secrets if x.name == "regcred-manifest")
    assert manifest.data == generated.data
    assert manifest.credentials == generated.credentials
    assert generated.source_line == marked_line(text)


def test_generator_defaults_follow_kubectl() -> None:
    secret = docker_registry_secret("hub", "me", "pw")
    payload = json.loads(dict(secret.data)[".dockerconfigjson"])
    entry = {"username": "me", "password": "pw", "auth": b64("me:pw")}
    assert payload == {"auths": {"https://index.docker.io/v1/": entry}}
    assert secret.credentials == (RegistryCredential("docker.io", "me", "pw"),)
    assert secret.metadata.namespace == "default"


def test_generator_escapes_like_go() -> None:
    secret = docker_registry_secret("x", "a<b", "p&q>", "r.io", "é@x")
    payload = dict(secret.data)[".dockerconfigjson"].decode()
    assert '"username":"a\\u003cb"' in payload
    assert '"password":"p\\u0026q\\u003e"' in payload
    assert '"email":"é@x"' in payload
    assert json.loads(payload)["auths"]["r.io"]["username"] == "a<b"


# Pod fields ------------------------------------------------------------------------

POD_FIELDS = pod_with(
    """\
    env:
    - {name: PLAIN, value: "1"}
    - name: TOKEN
      valueFrom: {secretKeyRef: {name: api, key: token}}
    - name: NODE
      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
    envFrom:
    - secretRef: {name: bulk}
    - configMapRef: {name: settings}
    - {prefix: X_, secretRef: {name: api, optional: true}}
    volumeMounts:
    - {name: certs, mountPath: /etc/certs, readOnly: true}
    - {name: bundle, mountPath: /etc/bundle, subPath: x}
    - {name: scratch, mountPath: /tmp}
    """,
    """\
    initContainers:
    - name: init
      image: busybox:1.36
      env:
      - name: INIT
        valueFrom: {secretKeyRef: {name: init-secret, key: k}}
    volumes:
    - name: certs
      secret: {secretName: tls-certs, defaultMode: 0400, items: [{key: a, path: b}]}
    - name: bundle
      projected:
        defaultMode: 420
        sources:
        - secret: {name: one}
        - serviceAccountToken: {path: token, expirationSeconds: 3607}
        - configMap: {name: kube-root-ca.crt}
        - secret: {name: two, optional: true}
    - name: scratch
      emptyDir: {medium: Memory}
    """,
)


def test_volumes_mounts_and_secret_references() -> None:
    pod = read(POD_FIELDS).pods[0]
    assert pod.volumes == (
        Volume("certs", VolumeKind.SECRET, ("tls-certs",)),
        Volume("bundle", VolumeKind.PROJECTED, ("one", "two")),
        Volume("scratch", VolumeKind.OTHER),
    )
    assert pod.containers[0].volume_mounts == (
        VolumeMount("certs", "/etc/certs", True),
        VolumeMount("bundle", "/etc/bundle", False),
        VolumeMount("scratch", "/tmp", False),
    )
    assert pod.containers[0].env == (("PLAIN", "1"),)
    assert pod.env_secret_refs == (
        ("init", "init-secret"),
        ("app", "api"),
        ("app", "bulk"),
    )


KUBECTL_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
spec:
  containers:
  - image: nginx:1.27
    name: web
    volumeMounts:
    - mountPath: /var/run/secrets/kubernetes.io/serviceaccount
      name: kube-api-access-x7k2p
      readOnly: true
  serviceAccountName: default
  volumes:
  - name: kube-api-access-x7k2p
    projected:
      defaultMode: 420
      sources:
      - serviceAccountToken:
          expirationSeconds: 3607
          path: token
      - configMap:
          items:
          - key: ca.crt
            path: ca.crt
          name: kube-root-ca.crt
      - downwardAPI:
          items:
          - fieldRef:
              apiVersion: v1
              fieldPath: metadata.namespace
            path: namespace
"""


def test_kubectl_pod_with_the_token_volume() -> None:
    s = read(KUBECTL_POD)
    pod = s.pods[0]
    assert pod.volumes == (Volume("kube-api-access-x7k2p", VolumeKind.PROJECTED),)
    assert pod.containers[0].volume_mounts[0].read_only is True
    assert not any("unknown" in w for w in s.warnings)


# Malformed inputs --------------------------------------------------------------------

SECRET_HEAD = "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"
DOCKER_HEAD = (
    "---\napiVersion: v1\nkind: Secret\nmetadata: {name: regcred}\n"
    "type: kubernetes.io/dockerconfigjson\n"
)
REDACTED = 'Invalid value: "<secret contents redacted>": '


def docker_secret(config: object) -> str:
    """The pod plus Secret ``regcred`` whose ``.dockerconfigjson`` is marked ``#!``.

    ``config`` is the JSON value, or the text itself when it is a string.
    """
    payload = config if isinstance(config, str) else json.dumps(config)
    return POD + DOCKER_HEAD + f"stringData:\n  .dockerconfigjson: '{payload}'  #!\n"


WEB = 'Pod "web"'
DEMO = 'Scenario "demo"'

MALFORMED: list[tuple[str, str, str, str]] = [
    # (id, file text, expected problem path, expected message)
    (
        "bad-base64",
        POD + SECRET_HEAD + "data:\n  key: YWJj!  #!\n",
        'Secret "s": data[key]',
        'Invalid value: "YWJj!": illegal base64 data at input byte 4',
    ),
    (
        "bad-data-key",
        POD + SECRET_HEAD + "stringData:\n  bad key: x  #!\n",
        'Secret "s": stringData[bad key]',
        'Invalid value: "bad key": a valid config key must consist of alphanumeric '
        "characters, '-', '_' or '.' (e.g. 'key.name', or 'KEY_NAME', or 'key-name')",
    ),
    (
        "dockerconfigjson-broken-json",
        docker_secret('{"auths": '),
        'Secret "regcred": stringData[.dockerconfigjson]',
        REDACTED + "invalid JSON: Expecting value: line 1 column 11 (char 10)",
    ),
    (
        "dockerconfigjson-bad-auth",
        POD
        + DOCKER_HEAD
        + "data:\n  .dockerconfigjson: "
        + b64('{"auths": {"r.example.com": {"auth": "YWJj!"}}}')
        + "  #!\n",
        'Secret "regcred": data[.dockerconfigjson]',
        REDACTED + 'auths["r.example.com"].auth: illegal base64 data at input byte 4',
    ),
    (
        "dockerconfigjson-auth-without-colon",
        docker_secret({"auths": {"r.io": {"auth": b64("nocolon")}}}),
        'Secret "regcred": stringData[.dockerconfigjson]',
        REDACTED + 'auths["r.io"].auth: must be formatted as base64(username:password)',
    ),
    (
        "dockerconfigjson-auths-not-an-object",
        docker_secret({"auths": []}),
        'Secret "regcred": stringData[.dockerconfigjson]',
        REDACTED + "auths must be a JSON object",
    ),
    (
        "dockerconfigjson-missing",
        POD + DOCKER_HEAD + "data:  #!\n  other: " + b64("x") + "\n",
        'Secret "regcred": data[.dockerconfigjson]',
        "Required value",
    ),
    (
        "dockercfg-missing",
        POD
        + "---\napiVersion: v1  #!\nkind: Secret\nmetadata: {name: old}\n"
        + "type: kubernetes.io/dockercfg\n",
        'Secret "old": data[.dockercfg]',
        "Required value",
    ),
    (
        "token-secret-without-annotation",
        POD
        + "---\napiVersion: v1\nkind: Secret\nmetadata:  #!\n"
        + "  name: build-robot-secret\ntype: kubernetes.io/service-account-token\n",
        'Secret "build-robot-secret": '
        "metadata.annotations[kubernetes.io/service-account.name]",
        "Required value",
    ),
    (
        "duplicate-secret",
        POD + SECRET_HEAD + SECRET_HEAD.replace("{name: s}", "{name: s}  #!"),
        'Secret "s": metadata.name',
        'Duplicate value: "s"',
    ),
    (
        "duplicate-service-account",
        POD
        + "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: robot}\n"
        + "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: robot}  #!\n",
        'ServiceAccount "robot": metadata.name',
        'Duplicate value: "robot"',
    ),
    (
        "service-account-unknown-field",
        POD
        + "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: robot}\n"
        + "automountServiceAccountTokens: false  #!\n",
        'ServiceAccount "robot": automountServiceAccountTokens',
        'unknown field "automountServiceAccountTokens"; did you mean '
        '"automountServiceAccountToken"?',
    ),
    (
        "pull-secret-without-name",
        pod_with(spec="imagePullSecrets:\n- name: ok\n- {}  #!\n"),
        f"{WEB}: spec.imagePullSecrets[1].name",
        "Required value",
    ),
    (
        "pull-secret-empty-name",
        pod_with(spec='imagePullSecrets:\n- name: ""  #!\n'),
        f"{WEB}: spec.imagePullSecrets[0].name",
        "Required value",
    ),
    (
        "automount-not-bool",
        pod_with(spec='automountServiceAccountToken: "no"  #!\n'),
        f"{WEB}: spec.automountServiceAccountToken",
        'Invalid value: "no": must be a boolean (true or false)',
    ),
    (
        "duplicate-volume",
        pod_with(
            spec="volumes:\n- {name: data, emptyDir: {}}\n"
            "- {name: data, secret: {secretName: x}}  #!\n"
        ),
        f"{WEB}: spec.volumes[1].name",
        'Duplicate value: "data"',
    ),
    (
        "volume-two-sources",
        pod_with(
            spec="volumes:\n- name: data\n  emptyDir: {}\n"
            "  secret: {secretName: x}  #!\n"
        ),
        f"{WEB}: spec.volumes[0].secret",
        "Forbidden: may not specify more than 1 volume type",
    ),
    (
        "volume-no-source",
        pod_with(spec="volumes:\n- name: data  #!\n"),
        f"{WEB}: spec.volumes[0]",
        "Required value: must specify a volume type",
    ),
    (
        "secret-volume-without-name",
        pod_with(spec="volumes:\n- name: data\n  secret: {defaultMode: 420}  #!\n"),
        f"{WEB}: spec.volumes[0].secret.secretName",
        "Required value",
    ),
    (
        "mount-of-unknown-volume",
        pod_with("volumeMounts:\n- {name: x, mountPath: /x}  #!\n"),
        f"{WEB}: spec.containers[0].volumeMounts[0].name",
        'Not found: "x"',
    ),
    (
        "mount-near-miss",
        pod_with(
            "volumeMounts:\n- {name: data, mountPath: /a}\n"
            "- {name: dta, mountPath: /b}  #!\n",
            "volumes:\n- {name: data, emptyDir: {}}\n",
        ),
        f"{WEB}: spec.containers[0].volumeMounts[1].name",
        'Not found: "dta"; did you mean "data"?',
    ),
    (
        "mount-path-twice",
        pod_with(
            "volumeMounts:\n- {name: data, mountPath: /a}\n"
            "- {name: data, mountPath: /a}  #!\n",
            "volumes:\n- {name: data, emptyDir: {}}\n",
        ),
        f"{WEB}: spec.containers[0].volumeMounts[1].mountPath",
        'Invalid value: "/a": must be unique',
    ),
    (
        "env-value-and-value-from",
        pod_with(
            "env:\n- name: A\n  value: x\n"
            "  valueFrom: {secretKeyRef: {name: s, key: k}}  #!\n"
        ),
        f"{WEB}: spec.containers[0].env[0].valueFrom",
        'Invalid value: "": may not be specified when `value` is not empty',
    ),
    (
        "secret-key-ref-without-key",
        pod_with("env:\n- name: A\n  valueFrom: {secretKeyRef: {name: s}}  #!\n"),
        f"{WEB}: spec.containers[0].env[0].valueFrom.secretKeyRef.key",
        "Required value",
    ),
    (
        "registry-without-server",
        scenario("registries:\n- {private: true}  #!\n"),
        f"{DEMO}: spec.registries[0].server",
        "Required value",
    ),
    (
        "duplicate-registry",
        scenario(
            "registries:\n- server: registry.example.com\n"
            "- server: https://registry.example.com/  #!\n"
        ),
        f"{DEMO}: spec.registries[1].server",
        'Duplicate value: "https://registry.example.com/"',
    ),
    (
        "registry-bad-timeout",
        scenario("registries:\n- server: r.io\n  timeout: 0s  #!\n"),
        f"{DEMO}: spec.registries[0].timeout",
        'Invalid value: "0s": must be greater than 0s',
    ),
    (
        "create-unknown-pod",
        scenario("actions:\n- {at: 1s, create: {pod: wbe}}  #!\n"),
        f"{DEMO}: spec.actions[0].create.pod",
        'Not found: "wbe": no pod of that name; did you mean "web"?',
    ),
    (
        "create-twice",
        scenario(
            "actions:\n- {at: 1s, create: {pod: web}}\n"
            "- {at: 2s, create: {pod: web}}  #!\n"
        ),
        f"{DEMO}: spec.actions[1].create.pod",
        'Duplicate value: "web"',
    ),
    (
        "set-service-account-without-name",
        scenario("actions:\n- {at: 1s, setServiceAccount: {pod: web}}  #!\n"),
        f"{DEMO}: spec.actions[0].setServiceAccount.name",
        "Required value",
    ),
    (
        "generator-name-clash",
        scenario(
            "secrets:\n- dockerRegistry:\n    name: s  #!\n"
            "    username: u\n    password: p\n",
            manifests=POD + SECRET_HEAD,
        ),
        f"{DEMO}: spec.secrets[0].dockerRegistry.name",
        'Duplicate value: "s": the Secret manifest on line 10 has this name',
    ),
    (
        "generator-twice",
        scenario(
            "secrets:\n- dockerRegistry: {name: a, username: u, password: p}\n"
            "- dockerRegistry: {name: a, username: v, password: q}  #!\n"
        ),
        f"{DEMO}: spec.secrets[1].dockerRegistry.name",
        'Duplicate value: "a"',
    ),
    (
        "generator-without-password",
        scenario("secrets:\n- dockerRegistry: {name: a, username: u}  #!\n"),
        f"{DEMO}: spec.secrets[0].dockerRegistry.password",
        "Required value",
    ),
    (
        "generator-unknown",
        scenario("secrets:\n- generic: {name: a}  #!\n"),
        f"{DEMO}: spec.secrets[0].generic",
        'unknown field "spec.secrets[0].generic"',
    ),
]


@pytest.mark.parametrize(
    ("name", "text", "path", "message"), MALFORMED, ids=[c[0] for c in MALFORMED]
)
def test_malformed(name: str, text: str, path: str, message: str) -> None:
    assert_reported(text, path, message, prefix=True)


def test_there_are_many_malformed_cases() -> None:
    assert len(MALFORMED) >= 12


def test_mount_not_found_message_is_the_api_servers() -> None:
    text = pod_with("volumeMounts:\n- {name: x, mountPath: /x}\n")
    (problem,) = errors_of(text)
    assert str(problem) == (
        'case.yaml:10: Pod "web": spec.containers[0].volumeMounts[0].name: '
        'Not found: "x"'
    )


# Scenario document -------------------------------------------------------------------


def test_registries_and_actions() -> None:
    s = read(
        scenario("""\
            registries:
            - server: https://index.docker.io/v1/
            - server: registry.example.com
              private: true
              credentials: [{username: ci, password: s3cret}]
              pullLatency: {min: 3s, max: 8s}
              missingImages: ["registry.example.com/team/app:v2"]
            - {server: "localhost:5000", unreachable: true, timeout: 1m}
            actions:
            - {at: 20s, setServiceAccount: {pod: web, name: build-robot}}
            - {at: 10s, create: {pod: web}}
            """)
    )
    hub, private, local = s.registries
    assert hub == RegistrySpec("docker.io")
    assert private == RegistrySpec(
        "registry.example.com",
        private=True,
        credentials=(("ci", "s3cret"),),
        pull_latency=Distribution(DistributionKind.UNIFORM, 3.0, 8.0),
        missing_images=("registry.example.com/team/app:v2",),
    )
    assert local == RegistrySpec("localhost:5000", unreachable=True, timeout_seconds=60)
    create, change = s.actions
    assert (create.kind, create.pod, create.at_seconds) == (
        ActionKind.CREATE,
        "web",
        10,
    )
    assert change.kind is ActionKind.SET_SERVICE_ACCOUNT
    assert change.service_account == "build-robot"


def test_schema_knows_the_new_fields() -> None:
    schema = scenario_json_schema()
    spec = schema["$defs"]["ScenarioSpec"]["properties"]
    assert {"registries", "secrets"} <= set(spec)
    action = schema["$defs"]["action"]["properties"]
    assert {"create", "setServiceAccount"} <= set(action)
    assert schema["$defs"]["registry"]["required"] == ["server"]


def test_docs_cover_the_manifest_fields() -> None:
    docs = Path(__file__).parent.parent / "docs" / "scenario-format.md"
    text = docs.read_text(encoding="utf-8")
    names = {f.name for f in SERVICE_ACCOUNT.fields + SECRET.fields}
    missing = sorted(n for n in names if not re.search(rf"\b{re.escape(n)}\b", text))
    assert not missing


# Round trip ------------------------------------------------------------------------

ROUND_TRIP = scenario(
    """\
    registries:
    - server: registry.example.com
      private: true
      credentials: [{username: janedoe, password: xxxxxxxxxxx}]
      pullLatency: {median: 2s, p99: 9s}
      missingImages: [registry.example.com/team/app:v9]
    - {server: docker.io, unreachable: true, timeout: 45s}
    secrets:
    - dockerRegistry:
        name: generated
        server: registry.example.com
        username: janedoe
        password: xxxxxxxxxxx
    actions:
    - {at: 5s, create: {pod: web}}
    - {at: 30s, setServiceAccount: {pod: web, name: default}}
    """,
    manifests=SEED + "---\n" + POD_FIELDS,
)


def test_round_trip() -> None:
    original = read(ROUND_TRIP)
    text = resolved_yaml(original)
    again = read(text)
    assert _without_lines(again) == _without_lines(original)
    assert resolved_yaml(again) == text
    assert "dockerRegistry" not in text
    assert [x.name for x in again.secrets][-1] == "generated"
    assert len(again.service_accounts) == 2
    assert again.pod("web").env_secret_refs == original.pod("web").env_secret_refs
