"""A fake Kaggle API on a loopback port that answers what the official client really sends.

A dataset download by ``kaggle`` 2.x is ``POST /api/v1/datasets.DatasetApiService/
DownloadDataset`` with a JSON body ``{"ownerSlug": ..., "datasetSlug": ...}`` and HTTP
Basic auth (username, key), answered with a redirect to the zip, which the client then
fetches with ``GET``. Errors are JSON ``{"code": N, "message": ...}`` with status N, as
Kaggle sends them. Every request is recorded so tests can assert on what the client did.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DOWNLOAD_PATH = "/api/v1/datasets.DatasetApiService/DownloadDataset"


@dataclass
class Seen:
    method: str
    path: str
    authorized: bool
    body: dict[str, Any] = field(default_factory=dict)


class FakeKaggle:
    """Serve one dataset zip to one user; ``fail_next`` holds statuses for the next POSTs."""

    def __init__(
        self,
        zip_bytes: bytes,
        *,
        username: str,
        key: str,
        dataset: str = "olistbr/brazilian-ecommerce",
        echo_credentials: bool = False,
    ) -> None:
        self.zip_bytes = zip_bytes
        self.owner, self.slug = dataset.split("/")
        self.expected_auth = "Basic " + base64.b64encode(f"{username}:{key}".encode()).decode()
        # A careless server: error messages repeat the credentials it was sent, so a test
        # can check that nothing the client passes on reaches the user unscrubbed.
        self.echo_credentials = echo_credentials
        self.fail_next: list[int] = []
        self.seen: list[Seen] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FakeKaggle:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def downloads(self) -> list[Seen]:
        return [s for s in self.seen if s.path == DOWNLOAD_PATH]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: pytest shows what matters

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else {}
                auth = self.headers.get("Authorization") or ""
                authorized = auth == fake.expected_auth
                self.echo = ""
                if fake.echo_credentials and auth.startswith("Basic "):
                    decoded = base64.b64decode(auth.removeprefix("Basic ")).decode()
                    self.echo = f" (you sent {auth}, that is {decoded})"
                fake.seen.append(Seen("POST", self.path, authorized, body))
                if self.path != DOWNLOAD_PATH:
                    return self._error(404, f"no such method: {self.path}")
                if not authorized:
                    return self._error(401, "Unauthenticated")
                if fake.fail_next:
                    return self._error(fake.fail_next.pop(0), "Service temporarily unavailable")
                if (body.get("ownerSlug"), body.get("datasetSlug")) != (fake.owner, fake.slug):
                    return self._error(404, "Dataset not found")
                self.send_response(302)
                self.send_header("Location", f"{fake.url}/files/{fake.slug}.zip")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self) -> None:
                fake.seen.append(Seen("GET", self.path, False))
                if self.path != f"/files/{fake.slug}.zip":
                    return self._error(404, "Not found")
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(fake.zip_bytes)))
                self.send_header("Last-Modified", formatdate(usegmt=True))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                self.wfile.write(fake.zip_bytes)

            def _error(self, status: int, message: str) -> None:
                message += getattr(self, "echo", "")
                payload = json.dumps({"code": status, "message": message}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
