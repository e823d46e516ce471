"""`--source kaggle`: the nine files downloaded with the official `kaggle` client.

The client is imported here, inside the download, never at start-up: importing it
authenticates, reads the credentials file, prints login help and may create its config
folder. Credentials are the client's own: ``KAGGLE_USERNAME``/``KAGGLE_KEY``, or
``kaggle.json`` in ``$KAGGLE_CONFIG_DIR`` or ``~/.kaggle``. None → UsageError (exit 2)
saying how to set them.

The client prints to stdout and stderr as it goes (login help, the dataset URL, version
warnings). Those writes are swallowed for the thread that calls it, so the output stays
the pipeline's own: what the user should know comes back as events, with every secret
(the key, a token, the Basic-auth value, a signed URL's query) scrubbed; errors are
raised without the client's exception chained, so no traceback can carry a secret either.

The zip is downloaded into a temporary folder beside ``dest_dir``, unpacked there (only
the nine files, safely, by ``sources.local``), their headers checked, and only then are
they moved into ``dest_dir``: a bad or partial download never replaces good files.
Network errors and HTTP 429/5xx are retried (``olist_cli.retry``, ``OLIST_RETRIES``); the
client's own in-download retries are turned off so that one policy counts the attempts.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from olist_cli.credentials import check_private
from olist_cli.dataset import SOURCE_FILES
from olist_cli.errors import (
    LOCAL_WRITE_ERRNOS,
    OlistError,
    SourceError,
    UsageError,
    file_error,
)
from olist_cli.retry import TRANSIENT_HTTP, is_network_error, retrying
from olist_cli.settings import Settings

# The seam for tests and mirrors: the base URL the client sends its requests to (requests
# go to <endpoint>/api/v1/<service>/<method>, as on Kaggle's non-production hosts).
# None: Kaggle's own. See ``_point_at``.
API_ENDPOINT: str | None = None

HOW_TO_AUTHENTICATE = (
    "no Kaggle credentials: set KAGGLE_USERNAME and KAGGLE_KEY, or save the kaggle.json "
    "of an API token (kaggle.com → Settings → API → Create New Token) as "
    "~/.kaggle/kaggle.json (or $KAGGLE_CONFIG_DIR/kaggle.json) and chmod 600 it"
)
_DATASET = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[0-9]+)?$")
_PROGRESS_POLL_S = 0.25
_MB = 1_000_000  # decimal megabytes, as rich's DownloadColumn shows them


@dataclass(frozen=True)
class KaggleEvent:
    """Something to tell the user: a warning, a retry, progress, or what was done."""

    kind: Literal["info", "warning", "retry", "progress"]
    message: str


OnEvent = Callable[[KaggleEvent], None]


def download_kaggle(
    settings: Settings,
    dest_dir: Path,
    *,
    on_event: OnEvent | None = None,
    progress: bool | None = None,
    endpoint: str | None = None,
) -> Path:
    """Download ``settings.kaggle_dataset``, check its nine files, put them in ``dest_dir``.

    ``progress``: a rich progress bar on stderr (default: when stderr is a terminal);
    otherwise progress comes as ``progress`` events. ``endpoint`` overrides
    ``API_ENDPOINT``. Raises UsageError (no or refused credentials, unknown dataset),
    SourceError (the download kept failing, or a file is missing or has another header).
    """
    dataset = settings.kaggle_dataset
    if not _DATASET.match(dataset):
        raise UsageError(
            f"OLIST_KAGGLE_DATASET: '{dataset}' is not a Kaggle dataset (expected owner/name, "
            "e.g. olistbr/brazilian-ecommerce)"
        )
    config = config_file()
    secrets = Secrets.from_environment(config)
    say = _Say(on_event, secrets)
    if config is not None:
        # Before the client reads it: with OLIST_STRICT_PERMISSIONS it is not read at all.
        warning = check_private(config, "Kaggle API key file", strict=settings.strict_permissions)
        if warning:
            say("warning", warning)

    api = _authenticated_api(endpoint if endpoint is not None else API_ENDPOINT)
    secrets.add_credentials(
        api.config_values.get("username"),
        api.config_values.get("key"),
        api.config_values.get("token"),
    )
    show_bar = sys.stderr.isatty() if progress is None else progress
    api.progress = _Progress(dataset, say, bar=show_bar)

    try:
        dest_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest_dir.name}-kaggle-", dir=dest_dir.parent))
    except OSError as exc:
        raise file_error(exc, f"cannot create a download folder in {dest_dir.parent}") from None
    try:  # whatever fails, the staging folder goes, with the partial zip in it
        archive = _download(api, settings, staging / "download", say, secrets)
        folder = _unpack_and_check(archive, staging / "files", dataset, settings)
        try:
            _install(folder, dest_dir)
        except OSError as exc:
            raise file_error(exc, f"cannot move the downloaded files into {dest_dir}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    say("info", f"{dataset}: the 9 files are in {dest_dir}")
    return dest_dir


# -- credentials -------------------------------------------------------------------------


def config_file() -> Path | None:
    """The kaggle.json the client reads, if there is one."""
    path = config_path()
    return path if path.is_file() else None


def config_path() -> Path:
    """Where the client looks for kaggle.json, found the way the client finds it."""
    configured = os.environ.get("KAGGLE_CONFIG_DIR")
    if configured:
        folder = Path(configured)
    else:
        folder = Path.home() / ".kaggle"
        if sys.platform.startswith("linux") and not folder.exists():
            xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
            folder = Path(xdg) / "kaggle"
    return folder / "kaggle.json"


@dataclass
class Secrets:
    """Values that must never reach output: replaced by *** wherever they would appear."""

    values: set[str] = field(default_factory=set)

    @classmethod
    def from_environment(cls, config: Path | None) -> Secrets:
        secrets = cls()
        secrets.add_credentials(
            os.environ.get("KAGGLE_USERNAME"),
            os.environ.get("KAGGLE_KEY"),
            os.environ.get("KAGGLE_API_TOKEN"),
        )
        if config is not None:
            with contextlib.suppress(OSError, ValueError):
                stored = json.loads(config.read_text(encoding="utf-8"))
                if isinstance(stored, dict):
                    secrets.add_credentials(
                        stored.get("username"), stored.get("key"), stored.get("token")
                    )
        return secrets

    def add_credentials(self, username: object, key: object, token: object = None) -> None:
        for value in (key, token):
            if isinstance(value, str) and len(value) >= 4:
                self.values.add(value)
        if isinstance(username, str) and isinstance(key, str) and key:
            # What goes over the wire: the Basic-auth header's value.
            self.values.add(base64.b64encode(f"{username}:{key}".encode()).decode())

    def scrub(self, text: str) -> str:
        # Longest first, so a value containing another is replaced whole.
        for value in sorted(self.values, key=len, reverse=True):
            text = text.replace(value, "***")
        # Signed download URLs carry their credential in the query string.
        return re.sub(r"(https?://[^\s?'\"]+)\?[^\s'\")]*", r"\1?…", text)


def _authenticated_api(endpoint: str | None) -> Any:
    """The official client, imported now, authenticated, pointed at ``endpoint`` if given."""
    with _swallow_client_output():
        try:
            from kaggle.api.kaggle_api_extended import KaggleApi
        except ImportError:
            raise UsageError(
                "--source kaggle needs the kaggle client: pip install 'olist-cli[kaggle]'"
            ) from None
        except SystemExit:  # older clients exit from their import without credentials
            raise UsageError(HOW_TO_AUTHENTICATE) from None
        api = _api_class(KaggleApi)()
        api.endpoint = endpoint
        # The client fixes its config path when first imported; use today's.
        config = config_path()
        api.config_dir, api.config = str(config.parent), str(config)
        try:
            api.authenticate()
        except SystemExit:
            raise UsageError(HOW_TO_AUTHENTICATE) from None
    return api


def _api_class(base: type) -> type:
    """The client with two changes: its endpoint (the seam) and our progress and retries."""

    class OlistKaggleApi(base):  # type: ignore[misc, valid-type]
        endpoint: str | None = None
        progress: _Progress | None = None

        def build_kaggle_client(self) -> Any:
            client = super().build_kaggle_client()
            if self.endpoint is not None:
                _point_at(client, self.endpoint)
            return client

        def download_file(
            self, response: Any, outfile: str, http_client: Any, *args: Any, **kwargs: Any
        ) -> Any:
            # max_retries=0: the client would otherwise retry 5 times with its own sleeps,
            # inside each of our attempts. One policy (olist_cli.retry) counts them all.
            kwargs.update(quiet=True, resume=False, max_retries=0)
            size = response.headers.get("Content-Length")
            total = int(size) if size and size.isdigit() else None
            watching = self.progress.watching if self.progress else _not_watching
            with watching(Path(outfile), total):
                return super().download_file(response, outfile, http_client, **kwargs)

    return OlistKaggleApi


def _point_at(client: Any, endpoint: str) -> None:
    """THE SEAM: send a built KaggleClient's requests to ``endpoint`` instead of Kaggle.

    kagglesdk has no base-URL setting: ``KaggleHttpClient.__init__`` takes its endpoint
    from ``kagglesdk.kaggle_env.get_endpoint(env)``, a fixed table (LOCAL is
    http://localhost, port 80, chosen by KAGGLE_API_ENVIRONMENT=LOCALHOST at import time).
    This sets, on this one client only, what that table would have given for a local
    host: env LOCAL (so URLs are <endpoint>/api/v1/...) and the endpoint. No global state
    changes, so tests can run servers on any free port, one after another, in-process.
    If kagglesdk renames these attributes this fails loudly instead of calling Kaggle.
    """
    from kagglesdk.kaggle_env import KaggleEnv

    http = client.http_client()
    if not (hasattr(http, "_endpoint") and hasattr(http, "_env")):
        raise RuntimeError("kagglesdk changed: cannot point its client at another endpoint")
    http._env = KaggleEnv.LOCAL
    http._endpoint = endpoint.rstrip("/")


# -- download ----------------------------------------------------------------------------


def _download(api: Any, settings: Settings, folder: Path, say: _Say, secrets: Secrets) -> Path:
    """The dataset zip in ``folder``, downloaded with retries on transient errors."""
    dataset = settings.kaggle_dataset

    def attempt() -> Path:
        shutil.rmtree(folder, ignore_errors=True)  # a failed attempt leaves no partial zip
        folder.mkdir(parents=True)
        with _swallow_client_output():
            api.dataset_download_files(dataset, path=str(folder), force=True, quiet=True)
        zips = sorted(folder.glob("*.zip"))
        if len(zips) != 1:
            raise SourceError(f"{dataset}: Kaggle sent no zip file")
        return zips[0]

    def retrying_because(retry: int, delay: float, exc: Exception) -> None:
        say("retry", f"{dataset}: {_describe(exc)}; retry {retry} in {delay:.1f}s")

    try:
        return retrying(
            attempt,
            what=f"kaggle download {dataset}",
            retries=settings.retries,
            backoff_s=settings.retry_backoff_s,
            is_transient=_is_transient,
            on_retry=retrying_because,
        )
    except OlistError as exc:
        raise type(exc)(secrets.scrub(exc.message)) from None
    except Exception as exc:
        if isinstance(exc, OSError) and exc.errno in LOCAL_WRITE_ERRNOS:
            # Writing the zip: a full disk, not the network (never retried).
            raise file_error(
                exc, f"Kaggle download of {dataset}: cannot write the zip in {folder.parent.parent}"
            ) from None
        raise _download_error(exc, dataset, settings.retries, secrets) from None


def _status(exc: Exception) -> int | None:
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _is_transient(exc: Exception) -> bool:
    """Worth another try: HTTP 408/429/5xx, a broken or slow connection, a short body."""
    status = _status(exc)
    if status is not None:
        return status in TRANSIENT_HTTP
    if isinstance(exc, ValueError) and "does not match expected size" in str(exc):
        return True  # the client's check of a truncated body
    return is_network_error(exc)


def _describe(exc: Exception) -> str:
    status = _status(exc)
    text = " ".join(str(exc).split()) or type(exc).__name__
    if status is not None and str(status) not in text:
        text = f"HTTP {status}: {text}"
    return text[:200]


def _download_error(exc: Exception, dataset: str, retries: int, secrets: Secrets) -> OlistError:
    """One line for a person, scrubbed of every secret."""
    status = _status(exc)
    why = secrets.scrub(_describe(exc))
    if status == 401:
        return UsageError(
            f"Kaggle refused the credentials ({why}): check KAGGLE_USERNAME and KAGGLE_KEY, "
            "or the key in kaggle.json (create a new token on kaggle.com → Settings → API)"
        )
    if status == 403:
        return UsageError(
            f"Kaggle denied access to {dataset} ({why}): open the dataset page on kaggle.com "
            "and accept its rules, or check the account of your API token"
        )
    if status == 404:
        return UsageError(f"Kaggle dataset {dataset} not found ({why}): check OLIST_KAGGLE_DATASET")
    if _is_transient(exc):
        return SourceError(f"Kaggle download of {dataset} failed after {retries} retries: {why}")
    return SourceError(f"Kaggle download of {dataset} failed: {type(exc).__name__}: {why}")


def _unpack_and_check(archive: Path, work_dir: Path, dataset: str, settings: Settings) -> Path:
    """The nine files unpacked from ``archive``, each with the header it must have."""
    from olist_cli.load import check_header
    from olist_cli.sources.local import ZipCaps, resolve_local_source

    try:
        folder = resolve_local_source(archive, work_dir, ZipCaps.of(settings))
        for source in SOURCE_FILES:
            check_header(folder / source.file_name, source)
    except OlistError as exc:
        # Name the dataset, not the temporary zip this came from.
        raise SourceError(
            f"{dataset} from Kaggle: {exc.message.replace(str(archive), archive.name)}"
        ) from None
    return folder


def _install(folder: Path, dest_dir: Path) -> None:
    """Move the checked files into ``dest_dir``, each replaced atomically (a rename)."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    for source in SOURCE_FILES:
        os.replace(folder / source.file_name, dest_dir / source.file_name)


# -- output: events, the client's prints, progress ----------------------------------------


_speaking = threading.local()  # set while _Say hands an event over: never swallowed


class _Say:
    """Send events to ``on_event`` with every secret scrubbed."""

    def __init__(self, on_event: OnEvent | None, secrets: Secrets) -> None:
        self.on_event = on_event
        self.secrets = secrets

    def __call__(self, kind: Literal["info", "warning", "retry", "progress"], text: str) -> None:
        if self.on_event is None:
            return
        _speaking.on = True
        try:
            self.on_event(KaggleEvent(kind, self.secrets.scrub(text)))
        finally:
            _speaking.on = False


class _ThreadMute(io.TextIOBase):
    """A stream that drops what one thread writes and passes other threads' writes on.

    The client's prints come from the thread that calls it; our own events may come from
    that thread too (while the client calls us back) or from the progress poller at the
    same moment, and must still reach the real stream.
    """

    def __init__(self, real: TextIO, muted: int) -> None:
        self.real = real
        self.muted = muted

    def write(self, text: str) -> int:
        if threading.get_ident() == self.muted and not getattr(_speaking, "on", False):
            return len(text)
        return self.real.write(text)

    def flush(self) -> None:
        self.real.flush()

    @property
    def rich_proxied_file(self) -> TextIO:
        # A rich Console writing to sys.stdout (the reporter's spinner, from its refresh
        # thread) looks through this to the real stream, as through rich's own proxy.
        # Without it, a spinner running while we swap sys.stdout echoes its frames as text.
        return getattr(self.real, "rich_proxied_file", self.real)

    def isatty(self) -> bool:
        return self.real.isatty()

    def fileno(self) -> int:
        return self.real.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.real, "encoding", "utf-8")


@contextlib.contextmanager
def _swallow_client_output() -> Iterator[None]:
    """Drop what the client prints from this thread, on stdout and stderr."""
    me = threading.get_ident()
    real_out, real_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _ThreadMute(real_out, me), _ThreadMute(real_err, me)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = real_out, real_err


@contextlib.contextmanager
def _not_watching(path: Path, total: int | None) -> Iterator[None]:
    yield


class _Progress:
    """Watch the zip grow on disk: a rich bar on stderr, or a line every 10%."""

    def __init__(self, dataset: str, say: _Say, *, bar: bool) -> None:
        self.dataset = dataset
        self.say = say
        self.bar = bar
        # Bound now, before the client's output is swallowed: the bar must stay visible.
        self.stream = sys.stderr

    @contextlib.contextmanager
    def watching(self, path: Path, total: int | None) -> Iterator[None]:
        size = f" ({total / _MB:.1f} MB)" if total else ""
        self.say("progress", f"{self.dataset}: downloading{size}")
        start = time.perf_counter()
        stop = threading.Event()
        show = self._bar(total) if self.bar else self._lines(total)
        poller = threading.Thread(target=self._poll, args=(path, stop, show), daemon=True)
        with self._display():
            poller.start()
            try:
                yield
            finally:
                stop.set()
                poller.join()
        if path.is_file():
            done = path.stat().st_size
            took = time.perf_counter() - start
            self.say("progress", f"{self.dataset}: downloaded {done / _MB:.1f} MB in {took:.1f}s")

    def _poll(self, path: Path, stop: threading.Event, show: Callable[[int], None]) -> None:
        while True:
            stopping = stop.wait(_PROGRESS_POLL_S)
            with contextlib.suppress(OSError):
                show(path.stat().st_size)
            if stopping:
                return

    @contextlib.contextmanager
    def _display(self) -> Iterator[None]:
        self._rich: Any = None
        if not self.bar:
            yield
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        with Progress(
            TextColumn("kaggle {task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(file=self.stream),
            transient=True,
            # Rich would otherwise wrap sys.stdout and print the client's swallowed output.
            redirect_stdout=False,
            redirect_stderr=False,
        ) as bar:
            self._rich = bar
            yield

    def _bar(self, total: int | None) -> Callable[[int], None]:
        task: list[Any] = []

        def show(done: int) -> None:
            if self._rich is None:
                return
            if not task:
                task.append(self._rich.add_task(self.dataset, total=total))
            self._rich.update(task[0], completed=done)

        return show

    def _lines(self, total: int | None) -> Callable[[int], None]:
        said = [0]

        def show(done: int) -> None:
            if not total:
                return  # no size known: the start and end lines say enough
            tenth = min(10, done * 10 // total)
            if tenth > said[0] and tenth < 10:
                said[0] = tenth
                self.say(
                    "progress",
                    f"{self.dataset}: {done / _MB:.1f} of {total / _MB:.1f} MB ({tenth * 10}%)",
                )

        return show
