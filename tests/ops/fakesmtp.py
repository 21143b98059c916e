"""A small SMTP server on 127.0.0.1 for tests: records what it accepted.

A message counts as accepted only once the server has answered "250" to its
DATA, as with a real server. `stall` makes the server hold its answer to DATA
(so a test can kill the client mid-delivery); such a message is never counted.
"""

from __future__ import annotations

import email
import select
import socket
import socketserver
import threading
import time
from email import policy


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeSMTP:
    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.messages: list[email.message.EmailMessage] = []
        self.stall = threading.Event()
        self.stalled = threading.Event()  # set while a DATA answer is held
        self._lock = threading.Lock()
        self._server = None
        self.delay = 0.0  # seconds before answering DATA (a slow server)
        self.busy = threading.Event()  # set while some DATA answer is pending
        self._in_data = 0

    # ------------------------------------------------------------------
    def start(self) -> FakeSMTP:
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write((line + "\r\n").encode())
                self.wfile.flush()

            def handle(self):
                self.reply("220 fake ESMTP")
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    cmd = line.decode(errors="replace").strip()
                    verb = cmd.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        self.reply("250 fake")
                    elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 go ahead")
                        with outer._lock:
                            outer._in_data += 1
                            outer.busy.set()
                        try:
                            if not self._data():
                                return
                        finally:
                            with outer._lock:
                                outer._in_data -= 1
                                if outer._in_data == 0:
                                    outer.busy.clear()
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 not implemented")

            def _client_gone(self) -> bool:
                ready, _, _ = select.select([self.connection], [], [], 0)
                if not ready:
                    return False
                try:
                    return self.connection.recv(1, socket.MSG_PEEK) == b""
                except OSError:
                    return True

            def _data(self) -> bool:
                """Read one message; answer 250 (and count it) unless stalled or cut off."""
                data = []
                while True:
                    part = self.rfile.readline()
                    if not part:
                        return False
                    if part in (b".\r\n", b".\n"):
                        break
                    data.append(part[1:] if part.startswith(b"..") else part)
                if outer.stall.is_set():
                    outer.stalled.set()
                    # Hold the answer until the client goes away.
                    while self.rfile.read(1):
                        pass
                    return False
                if outer.delay:
                    time.sleep(outer.delay)
                msg = email.message_from_bytes(b"".join(data), policy=policy.default)
                if self._client_gone():
                    return False  # the client died while we took our time: not accepted
                try:
                    self.reply("250 queued")
                except OSError:
                    return False  # the client died before hearing "250": not accepted
                with outer._lock:
                    outer.messages.append(msg)
                return True

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

        self._server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ------------------------------------------------------------------
    def to(self, address: str) -> list:
        with self._lock:
            return [m for m in self.messages if m["To"] == address]

    def message_ids(self) -> list[str]:
        with self._lock:
            return [str(m["Message-ID"]) for m in self.messages]
