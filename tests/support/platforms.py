"""What the platform tests (tests/e2e/platforms/) share: one Kluis (per test session) with a
fast outbox, so back-channel logout tokens leave within a fraction of a second; residents; a
browser (an httpx client with its own cookie jar that walks Kluis's pages with
tests/support/forms.py); the "app behind" a reverse proxy; servers run in the foreground of a
test module; and the rule that a missing Debian package fails a test with the line that
installs it (CI installs them in .ci/run), never skips it."""

from __future__ import annotations

import contextlib
import http.server
import json
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.support import forms
from tests.support.databases import drop_database, fresh_database_url
from tests.support.live_kluis import add_resident
from tests.support.server import LiveServer, free_port, run_server

PASSWORD = "paarse olifant danst op het dak"
RESIDENT_NAME = "Klaas Vaessen"
FAST_OUTBOX = {"KLUIS_OUTBOX_INTERVAL": "0.2"}
TIMEOUT_S = 15.0
START_TIMEOUT_S = 30.0


def require_program(program: str, apt_packages: str) -> str:
    """The path of `program`, or a failed test naming the install line (never a skip: a
    machine without the package must not pass silently)."""
    path = shutil.which(program) or (program if Path(program).exists() else None)
    if path is None:
        pytest.fail(
            f"{program} is missing; install it with: apt-get install -y {apt_packages}",
            pytrace=False,
        )
    return path


def require_file(path: str, apt_packages: str) -> None:
    if not Path(path).exists():
        pytest.fail(
            f"{path} is missing; install it with: apt-get install -y {apt_packages}",
            pytrace=False,
        )


@contextlib.contextmanager
def kluis_for_platforms(tmp: Path) -> Iterator[LiveServer]:
    url = fresh_database_url(tmp)
    try:
        with run_server(tmp / "data", url, **FAST_OUTBOX) as server:
            yield server
    finally:
        drop_database(url)


def new_resident(kluis: LiveServer, name: str = RESIDENT_NAME) -> str:
    """A fresh resident (so consent is asked exactly once); returns the e-mail address."""
    email = f"bewoner-{uuid.uuid4().hex[:8]}@example.org"
    add_resident(kluis, email, PASSWORD, name=name)
    return email


def browser() -> httpx.Client:
    """A browser without JavaScript: its own cookie jar, redirects followed by the caller."""
    return httpx.Client(timeout=TIMEOUT_S, follow_redirects=False)


def follow(
    http: httpx.Client,
    url: str,
    *,
    stop: Callable[[str], bool] | None = None,
    hops: list[httpx.URL] | None = None,
) -> Any:
    """GET `url` and follow redirects (up to forms.MAX_STEPS) until a page, or until `stop`
    says a Location is where the caller takes over; returns the last response. `hops` collects
    every URL requested on the way."""
    response = http.get(url)
    for _ in range(forms.MAX_STEPS):
        if hops is not None:
            hops.append(response.url)
        if not response.is_redirect:
            return response
        location = str(response.url.join(response.headers["location"]))
        if stop is not None and stop(location):
            return response
        response = http.get(location)
    raise forms.FlowError(f"more than {forms.MAX_STEPS} redirects from {url}")


def log_in_at_platform(
    http: httpx.Client,
    start: forms.Submission,
    *,
    kluis: LiveServer,
    redirect_uri: str,
    email: str,
    claims_to_allow: list[str],
) -> tuple[httpx.Response, forms.Authorized]:
    """From the platform's own login link or button (`start`) through Kluis's login and consent
    pages back to the platform's redirect_uri, then on through the platform's redirects to
    its page. Returns that page and what was walked at Kluis."""
    response = forms.send(http, start)
    location = httpx.URL(str(response.url.join(response.headers.get("location", ""))))
    if not response.is_redirect or not forms.same_endpoint(location, kluis.url + "/authorize"):
        raise forms.FlowError(
            "the platform did not send the browser to Kluis's /authorize",
            status=response.status_code,
            url=str(location),
            page=forms.page_text(response.text),
        )
    walked = forms.authorize(
        http,
        str(location),
        redirect_uri=redirect_uri,
        email=email,
        password=PASSWORD,
        claims_to_allow=claims_to_allow,
    )
    return follow(http, str(walked.callback_url)), walked


def log_out_at_kluis(http: httpx.Client, kluis: LiveServer) -> httpx.Response:
    """The resident ends their Kluis session on Kluis itself (no platform involved): the
    end-session endpoint without a hint asks to confirm, and the confirmation ends it."""
    page = http.get(kluis.url + "/logout", headers={"Accept-Language": "en"})
    submission = forms.logout_submission(forms.parse_forms(page.text, str(page.url)))
    assert submission is not None, forms.page_text(page.text)
    done = forms.send(http, submission)
    assert done.status_code == 200, (done.status_code, forms.page_text(done.text))
    return done


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.1)


def wait_for_port(port: int, process: subprocess.Popen[Any], log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited early:\n{log.read_text(errors='replace')}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/", timeout=1.0)
            return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer in time:\n{log.read_text()}")
        time.sleep(0.1)


@contextlib.contextmanager
def foreground(
    args: list[str], *, port: int, log: Path, what: str, **popen: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """A server process in the foreground of this test module, answering on `port`."""
    with log.open("wb") as out:
        process = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, **popen)
    try:
        wait_for_port(port, process, log, what)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class HeaderEcho:
    """The application behind a reverse proxy: answers every GET with the request's path and
    headers as JSON, and remembers what it was sent."""

    def __init__(self) -> None:
        self.port = free_port()
        self.seen: list[dict[str, Any]] = []
        echo = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen = {"path": self.path, "headers": dict(self.headers.items())}
                echo.seen.append(seen)
                body = json.dumps(seen).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def end_session_url(kluis: LiveServer, **params: str) -> str:
    return f"{kluis.url}/logout?{urlencode(params)}"


def add_preset_client(kluis: LiveServer, preset: str, base_url: str) -> dict[str, Any]:
    """`kluis clients add --preset PRESET --base-url URL --json` through the server's CLI, as an
    operator registers a platform: the client and, under "platform", the settings printed for
    the platform's side, which the test then configures its plug-in with."""
    args = ["clients", "add", "--preset", preset, "--base-url", base_url, "--json"]
    client: dict[str, Any] = json.loads(kluis.cli(*args).stdout)
    return client
