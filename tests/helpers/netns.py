"""A second "host" for tests: a network namespace joined to this one by a veth pair on private test
addresses (10.213.x.0/30). Needs root and `ip netns`; everything made is removed on the way out."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

REQUIRE = "ATELIER_REQUIRE_NETNS"


@dataclass(frozen=True)
class OtherHost:
    namespace: str
    host_if: str
    """The veth end on this side; `ip link set <host_if> down` cuts the other host off."""
    host_ip: str
    """This side's address, which the other host reaches us on."""
    guest_ip: str

    @property
    def prefix(self) -> tuple[str, ...]:
        """Run a command on the other host: `(*prefix, command...)`."""
        return ("ip", "netns", "exec", self.namespace)

    def link(self, up: bool) -> None:
        _ip("link", "set", self.host_if, "up" if up else "down")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


def netns_unavailable() -> str | None:
    """Why this machine cannot make a namespace (None when it can)."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    probe = f"atl-probe-{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def skip_without_netns() -> None:
    reason = netns_unavailable()
    if reason is not None:
        if os.environ.get(REQUIRE) == "1":
            pytest.fail(f"{REQUIRE}=1 but {reason}")
        pytest.skip(reason)


@contextmanager
def other_host() -> Iterator[OtherHost]:
    """A namespace and a veth pair with 10.213.<n>.1 here and .2 there; always cleaned up."""
    tag = f"{os.getpid() % 10000}{random.randrange(100)}"
    subnet = random.randrange(256)
    host = OtherHost(f"atl-ns-{tag}", f"atlh{tag}", f"10.213.{subnet}.1", f"10.213.{subnet}.2")
    guest_if = f"atlg{tag}"
    try:
        _ip("netns", "add", host.namespace)
        _ip("link", "add", host.host_if, "type", "veth", "peer", "name", guest_if)
        _ip("link", "set", guest_if, "netns", host.namespace)
        _ip("addr", "add", f"{host.host_ip}/30", "dev", host.host_if)
        _ip("link", "set", host.host_if, "up")
        inside = ["netns", "exec", host.namespace, "ip"]
        _ip(*inside, "addr", "add", f"{host.guest_ip}/30", "dev", guest_if)
        _ip(*inside, "link", "set", guest_if, "up")
        _ip(*inside, "link", "set", "lo", "up")
        yield host
    finally:
        subprocess.run(["ip", "link", "del", host.host_if], capture_output=True)
        subprocess.run(["ip", "netns", "del", host.namespace], capture_output=True)
