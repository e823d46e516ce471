"""Serve a generated docs site on localhost (``olist docs --serve``), standard library only."""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from olist_cli.errors import OlistError


class DocsError(OlistError):
    """The docs site could not be written or served (exit 1)."""


class _QuietHandler(SimpleHTTPRequestHandler):
    """Static files from the site folder, without a log line per request."""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass

    def end_headers(self) -> None:
        # Pages change at every `olist docs`; a browser must not show yesterday's.
        self.send_header("Cache-Control", "no-store")
        super().end_headers()


def make_server(out_dir: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A server bound to host:port (port 0: any free port), not yet serving."""
    if not (out_dir / "index.html").is_file():
        raise DocsError(f"{out_dir} holds no docs site (no index.html); run `olist docs` first")
    handler = functools.partial(_QuietHandler, directory=str(out_dir))
    try:
        return ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise DocsError(f"port {port} on {host} is already in use; pick another port") from None
        raise DocsError(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None


def serve(
    out_dir: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> None:
    """Serve ``out_dir`` until interrupted (Ctrl+C); ``on_ready`` gets the site's URL."""
    server = make_server(out_dir, host, port)
    bound_host, bound_port = server.server_address[:2]
    if on_ready is not None:
        on_ready(f"http://{bound_host}:{bound_port}/")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
