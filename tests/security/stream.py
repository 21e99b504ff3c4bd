"""A raw HTTP/1.1 client for hostile uploads: it streams a multipart body from a generator
(chunked, or under a ``Content-Length`` it chooses, true or not), stops as soon as the server
answers or drops the connection, and says how much it had sent and how long that took.

An ordinary client would not do: it either holds the body or gives up with a write error
before reading the server's early answer.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

BOUNDARY = "hostile-boundary-7f3a"


@dataclass(frozen=True)
class Outcome:
    status: int | None  # None: no answer came back
    reply: bytes  # the answer's head and the start of its body
    sent: int  # body bytes handed to the socket before the answer (or the reset)
    seconds: float  # from the request's first byte to the answer


def multipart(
    filename: str, content: Iterable[bytes], kind: str = "predictions"
) -> Iterator[bytes]:
    """A multipart form: ``kind``, then a file whose bytes come from ``content``."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n{kind}\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
        "\r\nContent-Type: application/octet-stream\r\n\r\n"
    ).encode()
    yield from content
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def upload(
    address: str,
    path: str,
    body: Iterable[bytes],
    *,
    headers: dict[str, str] | None = None,
    declared: int | None = None,
    timeout: float = 30.0,
    patience: float = 0.0,
) -> Outcome:
    """POST ``body`` to ``path``: chunked, unless ``declared`` gives a Content-Length (which
    the body need not match). ``patience``: how long to wait for an early answer after the
    headers, before sending any of the body."""
    host, port = address.rsplit(":", 1)
    head = [f"POST {path} HTTP/1.1", f"Host: {address}"]
    head.append(f"Content-Type: multipart/form-data; boundary={BOUNDARY}")
    head.append(
        f"Content-Length: {declared}" if declared is not None else "Transfer-Encoding: chunked"
    )
    head += [f"{k}: {v}" for k, v in (headers or {}).items()]
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    sent = 0
    started = time.perf_counter()
    try:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        wait = patience
        for piece in body:
            if _answered(sock, wait):
                break
            framed = piece if declared is not None else b"%x\r\n%s\r\n" % (len(piece), piece)
            try:
                sock.sendall(framed)
            except OSError:  # reset or closed: the server stopped reading; its answer may wait
                break
            sent += len(piece)
            wait = 0.0
        else:
            if declared is None:
                sock.sendall(b"0\r\n\r\n")
        reply = _read_answer(sock, timeout)
    finally:
        sock.close()
    seconds = time.perf_counter() - started
    status = int(reply.split(b" ", 2)[1]) if reply.startswith(b"HTTP/1.1 ") else None
    return Outcome(status, reply, sent, seconds)


def _answered(sock: socket.socket, wait: float) -> bool:
    readable, _, _ = select.select([sock], [], [], wait)
    return bool(readable)


def _read_answer(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    reply = b""
    try:
        while len(reply) < 1 << 20:
            data = sock.recv(65536)
            if not data:
                break
            reply += data
            if b"\r\n\r\n" in reply and _complete(reply):
                break
    except OSError:
        pass  # a reset after the answer: keep what came
    return reply


def _complete(reply: bytes) -> bool:
    head, _, rest = reply.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(rest) >= int(line.split(b":", 1)[1])
    return False
