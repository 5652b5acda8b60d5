"""A client that keeps its connection open (httpx does, and so does every orchestrator built on
it) gets its answers at once: every accepted connection has TCP_NODELAY, so a response written
in two parts does not wait for the client's delayed ACK (about 40 ms a request before)."""

import asyncio
import gc
import os
import socket
import statistics
import time

import httpx

from tests.e2e.api_fixtures import V1, ok

REQUESTS = 200
# Half the stall a delayed ACK causes: what tells a connection that waits apart from one that
# does not, even on a busy machine (12 ms seen with the tests in three workers at load 9). How
# fast an answer is, is measured in bench/, not here.
MEDIAN_BOUND_MS = 20.0


def _accepted_socket(client_address: tuple[str, int]) -> socket.socket:
    """The server's end of the client's connection: the API runs in this process."""
    for candidate in gc.get_objects():
        if (
            isinstance(candidate, asyncio.Transport)
            and not candidate.is_closing()
            and candidate.get_extra_info("peername") == client_address
        ):
            found = candidate.get_extra_info("socket")
            assert found is not None
            return socket.socket(fileno=os.dup(found.fileno()))
    raise AssertionError(f"no accepted connection from {client_address}")


async def test_a_kept_alive_connection_answers_at_once(api: httpx.AsyncClient) -> None:
    # ``api`` serves on a socket made by socket.create_server (protocol 0), as tests and
    # benchmarks pass it: serve_api must set TCP_NODELAY on its connections all the same.
    first = await api.get(f"{V1}/policy")
    await ok(first)
    stream = first.extensions["network_stream"]
    client_address = stream.get_extra_info("client_addr")
    timings = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        answer = await api.get(f"{V1}/policy")
        timings.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200
        # The same connection every time: what is measured is the kept-alive one.
        assert answer.extensions["network_stream"].get_extra_info("client_addr") == client_address
    median = statistics.median(timings)
    p90 = statistics.quantiles(timings, n=10)[-1]
    print(
        f"keep-alive GET {V1}/policy: median {median:.2f} ms, p90 {p90:.2f} ms over "
        f"{REQUESTS} requests, load {os.getloadavg()[0]:.2f}"
    )
    with _accepted_socket(client_address) as accepted:
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    assert median < MEDIAN_BOUND_MS, f"median {median:.2f} ms"
