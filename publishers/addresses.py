"""Where a webhook may go: an https URL whose host resolves only to public addresses, never
to private, loopback, link-local or other special ones (no reaching into our own network
through a publisher's webhook URL). Checked when the URL is saved and again at every
delivery, which then connects to the address it checked, so a name that resolves elsewhere
the second time (DNS rebinding) gets nowhere.

`WEBHOOK_ALLOW_LOOPBACK` (the demo and the tests) also lets plain http and loopback
addresses through: the sandbox publisher's receiver is on this machine. Nothing else.
"""

import ipaddress
import os
import socket
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings


class UnsafeURL(ValueError):
    """A webhook URL we won't send to; the message says why, in words."""


@dataclass(frozen=True)
class Target:
    """Where to connect (`address`), and the name the request and TLS speak to (`host`)."""

    scheme: str
    host: str
    port: int
    address: str


NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated, yet routed by some stacks


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries and reaches (mapped, 6to4, Teredo, NAT64,
    IPv4-compatible), or None."""
    if address.ipv4_mapped or address.sixtofour:
        return address.ipv4_mapped or address.sixtofour
    if address.teredo:
        return address.teredo[1]
    low = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in network for network in NAT64):
        return low
    if address in IPV4_COMPATIBLE and int(address) > 1:  # not :: or ::1
        return low
    return None


def _refused(address) -> bool:
    if address.version == 6 and (embedded := _embedded_ipv4(address)) is not None:
        address = embedded
    if address.is_loopback and settings.WEBHOOK_ALLOW_LOOPBACK:
        return False
    return not address.is_global or address.is_multicast


RESOLVE_TIMEOUT = 5.0  # seconds a host name may take to resolve
MAX_STUCK = 32  # lookups a process lets run on past their timeout, at most
_running = threading.Semaphore(MAX_STUCK)


def _after_fork() -> None:  # a forked worker has none of its parent's lookups running
    global _running
    _running = threading.Semaphore(MAX_STUCK)


os.register_at_fork(after_in_child=_after_fork)


def _resolve(host: str, port: int, timeout: float) -> list:
    """getaddrinfo, given up after `timeout` seconds (the system's resolver takes none):
    each lookup in a thread of its own, so a name server that doesn't answer holds its own
    lookups only, never another host's. UnsafeURL when it can't be had."""
    if not _running.acquire(blocking=False):
        raise UnsafeURL(f"The webhook host {host} wasn't looked up: too many lookups hang.")
    done, outcome = threading.Event(), {}

    def look_up():
        try:
            outcome["found"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            outcome["found"] = None
        finally:
            _running.release()
            done.set()

    threading.Thread(target=look_up, name=f"resolve {host}", daemon=True).start()
    if not done.wait(timeout):
        raise UnsafeURL(f"The webhook host {host} wasn't found within {timeout:g} seconds.")
    if not outcome["found"]:
        raise UnsafeURL(f"The webhook host {host} can't be found.")
    return outcome["found"]


def webhook_target(url: str, *, timeout: float = RESOLVE_TIMEOUT) -> Target:
    """The checked target of `url`, or UnsafeURL (also when its host name doesn't resolve
    within `timeout` seconds)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeURL("The webhook URL is not a valid URL.") from None
    allowed = ("https", "http") if settings.WEBHOOK_ALLOW_LOOPBACK else ("https",)
    if parts.scheme not in allowed:
        raise UnsafeURL("The webhook URL must start with https://.")
    if not parts.hostname:
        raise UnsafeURL("The webhook URL has no host.")
    if parts.username or parts.password:
        raise UnsafeURL("The webhook URL must not carry a user name or password.")
    port = port or (443 if parts.scheme == "https" else 80)
    found = _resolve(parts.hostname, port, timeout)
    addresses = [ipaddress.ip_address(entry[4][0].split("%")[0]) for entry in found]
    if not addresses or any(_refused(address) for address in addresses):
        raise UnsafeURL(
            f"The webhook host {parts.hostname} is a private, loopback or otherwise "
            "non-public address."
        )
    return Target(parts.scheme, parts.hostname, port, str(addresses[0]))


def webhook_url_problem(url: str) -> str | None:
    """Why `url` can't be a webhook URL, or None when it can."""
    try:
        webhook_target(url)
    except UnsafeURL as problem:
        return str(problem)
    return None
