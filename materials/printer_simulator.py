"""A label printer simulator: listens like a network label printer (raw TCP, port 9100) and keeps
every job it receives (in memory, and as files in a directory when one is given)."""

from __future__ import annotations

import socketserver
import threading
from pathlib import Path


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        chunks = []
        while True:
            data = self.request.recv(65536)
            if not data:
                break
            chunks.append(data)
        self.server.printer._store(b"".join(chunks))  # type: ignore[attr-defined]


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class LabelPrinterSimulator:
    """`jobs` holds what was received, one item per connection (a print job), oldest first."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, directory: Path | None = None) -> None:
        self.host, self._port, self.directory = host, port, directory
        self.jobs: list[str] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server else self._port

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def _store(self, data: bytes) -> None:
        text = data.decode("utf-8", errors="replace")
        with self._lock:
            self.jobs.append(text)
            number = len(self.jobs)
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / f"job-{number:05d}.zpl").write_text(text, encoding="utf-8")

    def start(self) -> LabelPrinterSimulator:
        self._server = _Server((self.host, self._port), _Handler)
        self._server.printer = self  # type: ignore[attr-defined]
        threading.Thread(target=self._server.serve_forever, name="printer-sim", daemon=True).start()
        return self

    def serve_forever(self) -> None:
        self._server = _Server((self.host, self._port), _Handler)
        self._server.printer = self  # type: ignore[attr-defined]
        self._server.serve_forever()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
