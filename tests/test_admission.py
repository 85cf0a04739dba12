"""ServiceAccount admission and the token controller (R10), as pure functions."""

from __future__ import annotations

import dataclasses

import pytest

from sim.kube.admission import (
    TOKEN_MOUNT_PATH,
    Rejection,
    admit,
    default_account,
    populate_tokens,
    update_refused,
)
from sim.scenario.spec import (
    ENFORCE_MOUNTABLE_SECRETS_ANNOTATION,
    SERVICE_ACCOUNT_NAME_ANNOTATION,
    Container,
    ObjectMeta,
    Pod,
    Secret,
    SecretType,
    ServiceAccount,
    Volume,
    VolumeKind,
    VolumeMount,
)


def pod(**fields) -> Pod:
    base = Pod(
        ObjectMeta("p", uid="u-1"),
        (Container("app", "x:1"), Container("side", "y:1")),
        service_account_name="",
    )
    return dataclasses.replace(base, **fields)


def account(name: str = "robot", **fields) -> ServiceAccount:
    return ServiceAccount(ObjectMeta(name), **fields)


def accounts(*extra: ServiceAccount) -> dict[str, ServiceAccount]:
    found = {"default": default_account("default")}
    found.update({a.name: a for a in extra})
    return found


def token_mounts(admitted: Pod) -> list[list[VolumeMount]]:
    return [
        [m for m in c.volume_mounts if m.mount_path == TOKEN_MOUNT_PATH]
        for c in admitted.containers
    ]


def test_r10_1_no_account_means_default():
    admitted = admit(pod(), accounts())
    assert isinstance(admitted, Pod)
    assert admitted.service_account_name == "default"


def test_r10_2_a_missing_account_is_refused_with_403_wording():
    refused = admit(pod(service_account_name="build-robot"), accounts())
    assert isinstance(refused, Rejection)
    assert refused.message == (
        'pods "p" is forbidden: error looking up service account '
        'default/build-robot: serviceaccount "build-robot" not found'
    )


@pytest.mark.parametrize(
    ("pod_setting", "account_setting", "mounted"),
    [
        (None, None, True),
        (None, False, False),
        (None, True, True),
        (False, True, False),
        (True, False, True),
        (False, None, False),
    ],
)
def test_r10_3_automount_precedence(pod_setting, account_setting, mounted):
    sa = account(automount_service_account_token=account_setting)
    admitted = admit(
        pod(service_account_name="robot", automount_service_account_token=pod_setting),
        accounts(sa),
    )
    assert isinstance(admitted, Pod)
    tokens = [v for v in admitted.volumes if v.name.startswith("kube-api-access-")]
    assert len(tokens) == int(mounted)
    for mounts in token_mounts(admitted):
        assert len(mounts) == int(mounted)
        assert all(m.read_only for m in mounts)


def test_r10_3_a_container_that_mounts_the_path_keeps_its_own():
    own = VolumeMount("mine", TOKEN_MOUNT_PATH)
    containers = (
        dataclasses.replace(Container("app", "x:1"), volume_mounts=(own,)),
        Container("side", "y:1"),
    )
    admitted = admit(pod(containers=containers, volumes=(Volume("mine"),)), accounts())
    assert isinstance(admitted, Pod)
    assert token_mounts(admitted)[0] == [own]
    assert token_mounts(admitted)[1][0].name.startswith("kube-api-access-")


def test_r10_3_admission_is_idempotent():
    once = admit(pod(), accounts())
    assert isinstance(once, Pod)
    assert admit(once, accounts()) == once


@pytest.mark.parametrize(
    ("pod_secrets", "expected"),
    [((), ("from-account",)), (("mine",), ("mine",))],
)
def test_r10_4_pull_secrets_are_replaced_when_empty_not_merged(pod_secrets, expected):
    sa = account(image_pull_secrets=("from-account",))
    admitted = admit(
        pod(service_account_name="robot", image_pull_secrets=pod_secrets),
        accounts(sa),
    )
    assert isinstance(admitted, Pod)
    assert admitted.image_pull_secrets == expected


ENFORCING = ObjectMeta(
    "robot", annotations=((ENFORCE_MOUNTABLE_SECRETS_ANNOTATION, "true"),)
)


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        (
            {"volumes": (Volume("v", VolumeKind.SECRET, ("other",)),)},
            'volume with secret.secretName="other" is not allowed',
        ),
        (
            {"env_secret_refs": (("app", "other"),)},
            'container app with envVar referencing secret.secretName="other"',
        ),
        (
            {"image_pull_secrets": ("other-pull",)},
            'imagePullSecrets with name="other-pull" is not allowed',
        ),
    ],
)
def test_r10_5_enforced_mountable_secrets_refuse_unlisted_ones(fields, fragment):
    sa = ServiceAccount(ENFORCING, secrets=("listed",), image_pull_secrets=("pull",))
    refused = admit(pod(service_account_name="robot", **fields), accounts(sa))
    assert isinstance(refused, Rejection)
    assert fragment in refused.message
    assert "service account robot does not reference" in refused.message


def test_r10_5_listed_secrets_pass_and_without_the_annotation_anything_goes():
    listed = {
        "volumes": (Volume("v", VolumeKind.SECRET, ("listed",)),),
        "env_secret_refs": (("app", "listed"),),
        "image_pull_secrets": ("pull",),
    }
    enforcing = ServiceAccount(
        ENFORCING, secrets=("listed",), image_pull_secrets=("pull",)
    )
    assert isinstance(
        admit(pod(service_account_name="robot", **listed), accounts(enforcing)), Pod
    )
    relaxed = account(secrets=())
    unlisted = {"volumes": (Volume("v", VolumeKind.SECRET, ("other",)),)}
    assert isinstance(
        admit(pod(service_account_name="robot", **unlisted), accounts(relaxed)), Pod
    )


def test_the_account_of_an_existing_pod_cannot_change():
    stored = pod(service_account_name="robot")
    assert update_refused(stored, "robot") is None
    refused = update_refused(stored, "default")
    assert refused is not None
    assert refused.message.startswith('The Pod "p" is invalid: spec: Forbidden')


def test_token_controller_fills_tokens_and_removes_orphans():
    def token(name: str, owner: str) -> Secret:
        meta = ObjectMeta(name, annotations=((SERVICE_ACCOUNT_NAME_ANNOTATION, owner),))
        return Secret(meta, SecretType.SERVICE_ACCOUNT_TOKEN.value)

    plain = Secret(ObjectMeta("plain"), data=(("k", b"v"),))
    kept, removed = populate_tokens(
        {
            "robot-token": token("robot-token", "robot"),
            "ghost-token": token("ghost-token", "ghost"),
            "plain": plain,
        },
        accounts(account()),
    )
    assert removed == ["ghost-token"]
    assert kept["plain"] == plain
    keys = {k for k, _ in kept["robot-token"].data}
    assert keys == {"ca.crt", "namespace", "token"}
