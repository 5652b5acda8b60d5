"""Listening sockets whose accepted connections have ``TCP_NODELAY``.

asyncio sets ``TCP_NODELAY`` on an accepted connection only when the socket says its protocol
is ``IPPROTO_TCP``, and a connection inherits the protocol of the socket that accepted it.
``socket.create_server`` makes sockets of protocol 0 (the system's default, TCP all the same),
so on those every response that goes out in two writes (headers, then body) waits for the
client's delayed ACK: about 40 ms per request on a reused keep-alive connection."""

import os
import socket

_INTERNET = {socket.AF_INET, socket.AF_INET6}


def listen(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host:port`` (an IPv6 address when ``host`` has a colon)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        # As socket.create_server does: a restart rebinds at once, and IPv6 means IPv6 only.
        if os.name == "posix":
            listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            listening.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        listening.bind((host, port))
        listening.listen()
    except OSError:
        listening.close()
        raise
    return listening


def with_nodelay(listening: socket.socket) -> socket.socket:
    """``listening`` as a socket asyncio knows is TCP: itself when it says so, else a new one
    over a duplicate of its descriptor (the caller closes both; the listening socket closes
    with the last). Sockets that are not TCP come back as they are."""
    if listening.family not in _INTERNET or listening.type != socket.SOCK_STREAM:
        return listening
    if listening.proto == socket.IPPROTO_TCP:
        return listening
    duplicate = os.dup(listening.fileno())
    return socket.socket(listening.family, listening.type, socket.IPPROTO_TCP, fileno=duplicate)
