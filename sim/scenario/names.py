"""Checks of Kubernetes names, worded like the API server's messages.

Each check takes a string and returns what is wrong with it (the detail that follows
``Invalid value: "x": ``), or None when it is fine.
"""

from __future__ import annotations

import re

from sim.scenario.spec import PullPolicy

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS_LABEL_PATTERN = rf"^{_LABEL}$"
DNS_SUBDOMAIN_PATTERN = rf"^{_LABEL}(\.{_LABEL})*$"
_QUALIFIED = r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
QUALIFIED_NAME_PATTERN = rf"^({DNS_SUBDOMAIN_PATTERN[1:-1]}/)?{_QUALIFIED}$"
HEADER_NAME_PATTERN = r"^[-A-Za-z0-9]+$"
PORT_NAME_PATTERN = r"^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$"


def dns_label(value: str) -> str | None:
    """Check an RFC 1123 label (container names, namespaces)."""
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not re.fullmatch(_LABEL, value):
        return (
            "a lowercase RFC 1123 label must consist of lower case alphanumeric "
            "characters or '-', and must start and end with an alphanumeric "
            "character (e.g. 'my-name', or '123-abc')"
        )
    return None


def dns_subdomain(value: str) -> str | None:
    """Check an RFC 1123 subdomain (pod names)."""
    if len(value) > 253:
        return "must be no more than 253 characters"
    if not re.fullmatch(DNS_SUBDOMAIN_PATTERN[1:-1], value):
        return (
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
            "characters, '-' or '.', and must start and end with an alphanumeric "
            "character (e.g. 'example.com')"
        )
    return None


def port_name(value: str) -> str | None:
    """Check an IANA service name (named container ports, named probe ports)."""
    found = []
    if len(value) > 15:
        found.append("must be no more than 15 characters")
    if not re.fullmatch(r"[-a-z0-9]*", value):
        found.append("must contain only lowercase alphanumerics or '-'")
    if not re.search(r"[a-z]", value):
        found.append("must contain at least one letter (a-z)")
    if "--" in value:
        found.append("must not contain consecutive hyphens")
    if value.startswith("-") or value.endswith("-"):
        found.append("must not begin or end with a hyphen")
    return ", ".join(found) or None


def qualified_name(value: str) -> str | None:
    """Check a qualified name such as ``example.com/feature-1`` (label keys, gates)."""
    prefix, slash, name = value.rpartition("/")
    if slash and (not prefix or dns_subdomain(prefix)):
        return "prefix part " + (dns_subdomain(prefix) or "must be non-empty")
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not re.fullmatch(_QUALIFIED, name):
        return (
            "name part must consist of alphanumeric characters, '-', '_' or '.', and "
            "must start and end with an alphanumeric character (e.g. 'MyName', "
            "'my.name', or '123-abc'), with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"
        )
    return None


def label_value(value: str) -> str | None:
    """Check a label value (empty allowed)."""
    if len(value) > 63:
        return "must be no more than 63 characters"
    if value and not re.fullmatch(_QUALIFIED, value):
        return (
            "a valid label must be an empty string or consist of alphanumeric "
            "characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character"
        )
    return None


def header_name(value: str) -> str | None:
    """Check an HTTP header field name of an ``httpGet`` probe."""
    if not re.fullmatch(HEADER_NAME_PATTERN[1:-1], value):
        return (
            "a valid HTTP header must consist of alphanumeric characters or '-' "
            "(e.g. 'X-Header-Name')"
        )
    return None


def no_surrounding_space(value: str) -> str | None:
    """Check that a string (an image) has no leading or trailing whitespace."""
    if value != value.strip():
        return "must not have leading or trailing whitespace"
    return None


def default_pull_policy(image: str) -> PullPolicy:
    """Return the ``imagePullPolicy`` the API server gives an image (R2.2).

    ``Always`` when the tag is ``latest`` or absent and there is no digest,
    ``IfNotPresent`` otherwise. A registry port (``localhost:5000/app``) is not a tag.
    """
    if "@" in image:
        return PullPolicy.IF_NOT_PRESENT
    last = image.rsplit("/", 1)[-1]
    _, colon, tag = last.partition(":")
    if not colon or tag == "latest":
        return PullPolicy.ALWAYS
    return PullPolicy.IF_NOT_PRESENT


CONFIG_KEY_PATTERN = r"^[-._a-zA-Z0-9]+$"


def config_key(value: str) -> str | None:
    """Check a key of a Secret's (or ConfigMap's) ``data``."""
    if len(value) > 253:
        return "must be no more than 253 characters"
    if not re.fullmatch(CONFIG_KEY_PATTERN[1:-1], value):
        return (
            "a valid config key must consist of alphanumeric characters, '-', '_' or "
            "'.' (e.g. 'key.name', or 'KEY_NAME', or 'key-name')"
        )
    if value in (".", ".."):
        return f"must not be '{value}'"
    if value.startswith(".."):
        return "must not start with '..'"
    return None
