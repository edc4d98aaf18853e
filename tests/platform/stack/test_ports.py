"""The stack's ports are never ones the kernel could hand to an outgoing connection
between the moment they are chosen and the moment their server binds them."""

from __future__ import annotations

import random
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from audora.platform.stack import ports
from audora.platform.stack.ports import ephemeral_ports, free_port


def test_a_chosen_port_is_outside_the_kernels_range_for_outgoing_connections() -> None:
    ephemeral = ephemeral_ports()
    chosen = [free_port() for _ in range(200)]
    assert not [port for port in chosen if port in ephemeral]
    assert all(ports.LOWEST <= port < 65536 for port in chosen)


def test_outgoing_connections_take_their_local_ports_from_that_range() -> None:
    """What the choice rests on: the race seen when SeaweedFS's connections, made while
    it started, took the port chosen for its gateway."""
    ephemeral = ephemeral_ports()
    with socket.create_server(("127.0.0.1", free_port())) as server:
        for _ in range(20):
            with socket.create_connection(server.getsockname()) as client:
                assert client.getsockname()[1] in ephemeral


def test_a_port_something_listens_on_is_passed_over() -> None:
    with socket.create_server(("127.0.0.1", free_port())) as held:
        taken = held.getsockname()[1]
        picks = _ScriptedRandom([taken, taken, taken])
        port = free_port(pick=picks)
    assert picks.drawn[:3] == [taken] * 3
    assert port != taken


def test_without_room_outside_the_range_an_ephemeral_port_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = tmp_path / "ip_local_port_range"
    everything.write_text("1024\t65535\n")
    monkeypatch.setattr(ports, "EPHEMERAL_RANGE", everything)
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.create_server(("127.0.0.1", port)):
        pass


class _ScriptedRandom(random.Random):
    """Draws the given ports first, then whatever the generator gives."""

    def __init__(self, script: list[int]) -> None:
        super().__init__(0)
        self._script = list(script)
        self.drawn: list[int] = []

    def choice(self, seq: Sequence[Any]) -> Any:
        port = self._script.pop(0) if self._script else super().choice(seq)
        self.drawn.append(port)
        return port
