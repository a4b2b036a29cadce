"""HTTP for webhooks: pooled httpx clients, and exchanges with a deadline in all.

httpx's timeouts hold per socket operation: a receiver that sends its answer a byte every
14 seconds never trips a 15-second read timeout, and keeps a worker for as long as it
likes. Here every connect, TLS handshake, write and read of an exchange gets at most what
is left of the exchange's deadline, and none begins past it: an httpcore network backend
wrapping the standard one, which httpx's transport is given in place of its own.
"""

import contextvars
import threading
import time
from collections import OrderedDict

import httpcore
import httpx

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "exchange_deadline", default=None
)
_local = threading.local()
CLIENTS_PER_THREAD = 64  # hosts whose connections a thread keeps; the least recent closes
_ssl_context = None
_ssl_lock = threading.Lock()


def _shared_ssl_context():
    """One TLS context per process (certifi's roots loaded once), shared by every pool."""
    global _ssl_context
    with _ssl_lock:
        if _ssl_context is None:
            _ssl_context = httpx.create_ssl_context(trust_env=False)
        return _ssl_context


def _left(timeout: float | None, late: type[Exception]) -> float | None:
    """The timeout for the next socket operation: no more than what the deadline leaves."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise late("The exchange took longer than its deadline.")
    return left if timeout is None else min(timeout, left)


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream):
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> "_Stream":
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _Backend(httpcore.SyncBackend):
    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        timeout = _left(timeout, httpcore.ConnectTimeout)
        return _Stream(super().connect_tcp(host, port, timeout, local_address, socket_options))


class _Transport(httpx.HTTPTransport):
    def __init__(self):
        context = _shared_ssl_context()
        super().__init__(verify=context, trust_env=False)
        # httpx takes no network backend: its connection pool, made again as it makes it
        # (default limits), with ours. The trickling receivers' tests in
        # tests/publishers/test_webhooks.py fail if a new httpx stops using it.
        self._pool = httpcore.ConnectionPool(
            ssl_context=context,
            max_connections=httpx.Limits().max_connections,
            max_keepalive_connections=httpx.Limits().max_keepalive_connections,
            keepalive_expiry=httpx.Limits().keepalive_expiry,
            network_backend=_Backend(),
        )


def new_client() -> httpx.Client:
    return httpx.Client(transport=_Transport(), follow_redirects=False, trust_env=False)


def pooled_client(host: str) -> httpx.Client:
    """One pooled client per thread and host (a worker process's connections are reused): a
    connection, and the TLS handshake made for its host's name, serves only that host,
    never another behind the same address. The CLIENTS_PER_THREAD most recent are kept."""
    clients = getattr(_local, "clients", None)
    if clients is None:
        clients = _local.clients = OrderedDict()
    if host in clients:
        clients.move_to_end(host)
        return clients[host]
    while len(clients) >= CLIENTS_PER_THREAD:
        clients.popitem(last=False)[1].close()
    clients[host] = client = new_client()
    return client


def close_pooled_clients() -> None:
    """Close this thread's pooled clients and their connections."""
    for client in getattr(_local, "clients", {}).values():
        client.close()
    _local.clients = OrderedDict()


def post(client: httpx.Client, url, *, deadline: float, limit: int, **request) -> tuple[int, str]:
    """POST over `client`, all of it within `deadline` seconds from now: the answer's status
    and its first `limit` bytes, as text (NUL bytes replaced). httpx.TimeoutException when
    the status and headers don't come in time; a body still coming then, or cut off, is
    kept as far as it came, and the status stands."""
    token = _deadline.set(time.monotonic() + deadline)
    try:
        with client.stream("POST", url, timeout=deadline, **request) as response:
            body = bytearray()
            try:
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) >= limit:
                        break
            except httpx.HTTPError:  # late, cut, or garbled: the status came, and stands
                pass
            text = bytes(body[:limit]).decode(response.encoding or "utf-8", errors="replace")
            return response.status_code, text.replace("\x00", "\ufffd")  # PostgreSQL's text
    finally:
        _deadline.reset(token)
