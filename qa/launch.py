"""The app's launch policy: which port, which login, and whether the exposure asked for is
safe. Pure and gradio-free, so refusing to serve is instant and testable without a server.

Standing rule: the app binds to loopback by default, and opens to a network or a public
gradio.live link only with a login.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

LOOPBACK_NAMES = {"localhost", "ip6-localhost", "ip6-loopback"}


class LaunchRefused(ValueError):
    """Serving as asked is invalid or unsafe; the message is the one line to print."""


@dataclass(frozen=True)
class LaunchPlan:
    """Validated serving options."""

    host: str
    port: int
    auth: tuple[str, str] | None
    share: bool


def parse_port(value: str | int) -> int:
    """A TCP port number from ``--port``; raises :class:`LaunchRefused` otherwise."""
    try:
        port = int(value)
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        raise LaunchRefused(f"error: port {value!r} is not a port number (1-65535).") from None
    return port


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """``"user:pass"`` -> ``("user", "pass")``; ``None``/``""`` -> ``None``; else ValueError."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user.strip() or not password:
        raise ValueError("--auth / QA_AUTH must be user:password (both non-empty).")
    return user.strip(), password


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server reachable from this machine only."""
    h = host.strip().strip("[]").lower()
    if h in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def exposure_error(host: str, share: bool, auth: tuple[str, str] | None) -> str:
    """Why serving as asked would be unsafe (``""`` if it is fine)."""
    if auth is not None:
        return ""
    if share:
        return (
            "error: --share publishes the app on a public gradio.live link; it needs --auth "
            "user:pass (or QA_AUTH)."
        )
    if not is_loopback(host):
        return (
            f"error: binding {host} exposes the app beyond this machine; it needs --auth "
            "user:pass (or QA_AUTH), or use --host 127.0.0.1."
        )
    return ""


def plan(host: str, port: str | int, auth: str | None, share: bool) -> LaunchPlan:
    """Check the port, the login and the exposure, in that order; raises
    :class:`LaunchRefused` with the one-line message for the first problem."""
    port_number = parse_port(port)
    try:
        login = parse_auth(auth)
    except ValueError as exc:
        raise LaunchRefused(f"error: {exc}") from None
    refusal = exposure_error(host, share, login)
    if refusal:
        raise LaunchRefused(refusal)
    return LaunchPlan(host, port_number, login, bool(share))
