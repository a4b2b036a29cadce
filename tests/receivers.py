"""A publisher's webhook endpoint for tests: a real HTTP server on loopback."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver(ThreadingHTTPServer):
    """A publisher's webhook endpoint: keeps what it gets, answers `answers` in turn (then
    200): a status, or (status, body) to answer that body, or (status, body, length) to
    announce `length` bytes, send the body and hang up. With `trickle` (seconds, and how
    many bytes of the answer go at once first), it sends the rest of its answer a byte at a
    time, that long apart."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received, self.answers = [], []
        self.trickle: tuple[float, int] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body.decode()))
        answer = self.server.answers.pop(0) if self.server.answers else 200
        status, text, length = (
            (*answer, None)[:3] if isinstance(answer, tuple) else (answer, None, None)
        )
        text = f"answered {status}".encode() if text is None else text
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(length or len(text)))
        if length:
            self.close_connection = True
        if self.server.trickle is None:
            self.end_headers()
            self.wfile.write(text)
            return
        pause, at_once = self.server.trickle
        self._headers_buffer.append(b"\r\n")  # end_headers, but not sent yet
        answer = b"".join(self._headers_buffer) + text
        self._headers_buffer = []
        self.wfile.write(answer[:at_once])
        try:
            for byte in answer[at_once:]:
                time.sleep(pause)
                self.wfile.write(bytes([byte]))
        except OSError:  # the sender gave up on it
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
