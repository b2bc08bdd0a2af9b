"""The municipal registry: Haal Centraal BRP Personen Bevragen 2.x, `POST /personen` with a
`RaadpleegMetBurgerservicenummer` query (OpenAPI 3.1 contract, BRP API Personen 2.7.0).

`Registry` is the small protocol the domain depends on. `HttpRegistry` asks the registry for
the few `fields` Kluis derives claims from (`FIELDS`) and reads the answer strictly
(`adapters.brp_claims.parse_answer`); `DevelopmentRegistry` answers from configured records
and says loudly that it is not the registry.

Every lookup is bounded: a timeout per request, at most `retries` more attempts and only
after 429 or 503 (exponential backoff, or the server's `Retry-After` up to a cap), never after
other errors. A BSN that is not nine digits passing the elfproef is refused before anything
is sent. Errors carry two messages: `resident_key`, a message key (Dutch and English) that
says what to do next, and the exception text for the operator (HTTP status and the
`Foutbericht`'s `code` and `title`). Neither the BSN nor any personal data is ever logged or
put in an exception; the registry's own texts are stripped of long digit runs first.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import re
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol, runtime_checkable

import httpx

from adapters.brp_claims import QUERY_TYPE, MalformedRecord, RegistryRecord, parse_answer
from adapters.tls import tls_failure
from core import register

log = logging.getLogger("kluis.registry")

# The smallest set of `Field` paths that gives postcode, municipality and age: the type of
# `AbstractVerblijfplaats` (an `Adres` or not), its postcode, `gemeenteVanInschrijving` (code
# and name) and `geboorte.datum`, which also decides the age when only a year or a month is
# known (`leeftijd` is then not delivered); and the house number of the `Adres`, only for the
# keyed hash of the whole address (one address, one reference: peer vouching's shared-address
# rule), never a claim. Everything else stays with the registry.
FIELDS = (
    "verblijfplaats.type",
    "verblijfplaats.verblijfadres.postcode",
    "verblijfplaats.verblijfadres.huisnummer",
    "verblijfplaats.verblijfadres.huisletter",
    "verblijfplaats.verblijfadres.huisnummertoevoeging",
    "gemeenteVanInschrijving",
    "geboorte.datum",
)
CONTENT_TYPE = "application/json; charset=utf-8"  # the contract's request media type
ACCEPT = "application/json, application/problem+json"
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_RETRIES = 2
FIRST_BACKOFF_S = 0.5
MAX_WAIT_S = 10.0  # longest wait between attempts, a `Retry-After` included
RETRY_STATUSES = frozenset({429, 503})
BSN = re.compile(r"[0-9]{9}")
GEMEENTECODE = re.compile(r"[0-9]{4}")
# what the operator can do about an error status (`_failure`)
HINTS = {
    400: "the registry refused the query: does it speak BRP API Personen 2.x?",
    401: "check the registry credentials",
    403: "the registry does not authorise this client for the query or one of its fields "
    + ", ".join(FIELDS),
    404: "no BRP API at the configured URL: check it",
    406: "the registry refused the media type",
    415: "the registry refused the media type",
}
_DIGIT_RUN = re.compile(r"[0-9]{6,}")  # a BSN, A-nummer or postcode digits in a registry text

register(
    {
        "registry.invalid_bsn": {
            "nl": "Dit burgerservicenummer (BSN) klopt niet. Kijk de negen cijfers na en "
            "probeer het opnieuw.",
            "en": "This citizen service number (BSN) is not valid. Check the nine digits and "
            "try again.",
        },
        "registry.not_found": {
            "nl": "We konden je niet vinden in de Basisregistratie Personen. Vraag een code "
            "per brief aan, of kom langs bij de balie van de gemeente.",
            "en": "We could not find you in the Personal Records Database (BRP). Ask for a "
            "code by letter, or visit the municipality's desk.",
        },
        "registry.unavailable": {
            "nl": "Het register van de gemeente is even niet bereikbaar. Probeer het over een "
            "paar minuten opnieuw.",
            "en": "The municipality's register cannot be reached right now. Please try again "
            "in a few minutes.",
        },
        "registry.failed": {
            "nl": "Het opvragen bij het register van de gemeente lukt nu niet; de beheerder "
            "kan zien wat er misging. Probeer het later opnieuw, of vraag een code per brief "
            "aan.",
            "en": "Looking you up in the municipality's register does not work right now; the "
            "operator can see what went wrong. Try again later, or ask for a code by letter.",
        },
    }
)


class RegistryError(Exception):
    """A lookup that gave no record. `str(exc)` is for the operator; `resident_key` names the
    message for the resident. `status`, `code` and `title` come from the registry's answer
    (`Foutbericht`), `retry_after` (seconds) from its `Retry-After`."""

    resident_key: ClassVar[str] = "registry.failed"

    def __init__(
        self,
        operator: str,
        *,
        status: int | None = None,
        code: str | None = None,
        title: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(operator)
        self.status = status
        self.code = code
        self.title = title
        self.retry_after = retry_after


class InvalidBsn(RegistryError):
    resident_key = "registry.invalid_bsn"


class NotInRegistry(RegistryError):
    resident_key = "registry.not_found"


class RegistryUnavailable(RegistryError):
    """Busy (429), down (503, 5xx), timed out or unreachable: worth trying again later."""

    resident_key = "registry.unavailable"


class RegistryAccessDenied(RegistryError):
    """401 or 403, or the token endpoint refused the client: credentials or authorisation."""


class RegistryRejectedRequest(RegistryError):
    """400, 404, 406, 415 or another status the contract does not lead to expect."""


class RegistryBadResponse(RegistryError):
    """The answer does not follow the contract."""


def valid_bsn(bsn: object) -> bool:
    """Nine ASCII digits, not all zero, passing the elfproef: 9·d1 + 8·d2 + … + 2·d8 − d9 is
    a multiple of 11."""
    if not isinstance(bsn, str) or not BSN.fullmatch(bsn) or bsn == "000000000":
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(int(digit) * w for digit, w in zip(bsn, weights, strict=True)) % 11 == 0


def check_bsn(bsn: object) -> str:
    if not valid_bsn(bsn):
        raise InvalidBsn("BSN refused before any request: not nine digits passing the elfproef")
    assert isinstance(bsn, str)
    return bsn


@runtime_checkable
class Registry(Protocol):
    def lookup(self, bsn: str) -> RegistryRecord:
        """The record of the resident with this BSN, or raise a `RegistryError`."""
        ...


class DevelopmentRegistry:
    """Answers from configured records (BSN -> record); for development and demonstrations."""

    def __init__(self, records: Mapping[str, RegistryRecord]) -> None:
        if not all(valid_bsn(bsn) for bsn in records):
            raise ValueError("development registry: every BSN must pass the elfproef")
        self._records = dict(records)
        log.warning(
            "development registry in use: records come from configuration, not from the BRP",
            extra={"records": len(self._records), "hint": "set KLUIS_BRP_URL to ask the BRP"},
        )

    def lookup(self, bsn: str) -> RegistryRecord:
        record = self._records.get(check_bsn(bsn))
        if record is None:
            raise NotInRegistry("the development registry has no record for this BSN")
        return record


def scrub(text: Any, limit: int = 80) -> str | None:
    """A registry-supplied text fit for the log: a string, shortened, long digit runs out."""
    if not isinstance(text, str) or not text:
        return None
    return _DIGIT_RUN.sub("[number]", " ".join(text.split()))[:limit]


class Credentials(Protocol):
    """How a lookup authenticates (`adapters.brp_auth`: an API key, OAuth client credentials)."""

    def headers(self, client: httpx.Client) -> dict[str, str]:
        """The request headers that authenticate; `client` can fetch a token first."""
        ...

    def forget(self) -> bool:
        """Drop what the registry refused (a cached token); whether renewing can help."""
        ...


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """RFC 9110 §10.2.3: delay-seconds or an HTTP-date; None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


class HttpRegistry:
    """The BRP API over HTTPS. `municipality` (four digits) makes the registry answer only
    for residents registered there (`gemeenteVanInschrijving` of the query). `tls`
    (`adapters.tls.client_tls`) carries the PKIoverheid client certificate for mutual TLS
    and the CA bundle the registry's certificate is checked against; it serves the token
    endpoint of the client credentials too."""

    def __init__(
        self,
        base_url: str,
        auth: Credentials,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        retries: int = DEFAULT_RETRIES,
        max_wait: float = MAX_WAIT_S,
        municipality: str | None = None,
        allow_http: bool = False,
        tls: ssl.SSLContext | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        url = httpx.URL(base_url)
        if not url.host or not (url.scheme == "https" or (url.scheme == "http" and allow_http)):
            raise ValueError("the registry URL must be an https:// URL")
        if municipality is not None and not GEMEENTECODE.fullmatch(municipality):
            raise ValueError("the registry municipality must be a four-digit gemeentecode")
        if retries < 0 or timeout <= 0 or max_wait < 0:
            raise ValueError("registry timeout, retries and wait must be positive")
        self.url = base_url.rstrip("/") + "/personen"
        self.auth = auth
        self.timeout = timeout
        self.retries = retries
        self.max_wait = max_wait
        self.municipality = municipality
        self._sleep = sleep
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            transport=transport,
            verify=tls if tls is not None else True,
        )

    def close(self) -> None:
        self._client.close()

    def query(self, bsn: str) -> dict[str, Any]:
        """The `RaadpleegMetBurgerservicenummer` body for one (already checked) BSN."""
        body: dict[str, Any] = {
            "type": QUERY_TYPE,
            "burgerservicenummer": [bsn],
            "fields": list(FIELDS),
        }
        if self.municipality is not None:
            body["gemeenteVanInschrijving"] = self.municipality
        return body

    def lookup(self, bsn: str) -> RegistryRecord:
        content = json.dumps(self.query(check_bsn(bsn))).encode()
        started = time.monotonic()
        response, attempts = self._send(content)
        if response.status_code != 200:
            raise self._failure(response, attempts)
        record = self._record(response)
        log.info(
            "registry lookup answered",
            extra={"attempts": attempts, "ms": round((time.monotonic() - started) * 1000)},
        )
        return record

    def _send(self, content: bytes) -> tuple[httpx.Response, int]:
        """The answer to the query, after the retries its status allows; and the attempts."""
        attempt, renewed = 0, False
        while True:
            headers = {"Content-Type": CONTENT_TYPE, "Accept": ACCEPT}
            headers |= self.auth.headers(self._client)
            try:
                response = self._client.post(self.url, content=content, headers=headers)
            except httpx.TimeoutException as exc:
                log.warning("registry timed out", extra={"error": type(exc).__name__})
                raise RegistryUnavailable(
                    f"registry timed out after {self.timeout:g} s ({type(exc).__name__})"
                ) from None
            except httpx.HTTPError as exc:
                error = type(exc).__name__ + (" (TLS)" if tls_failure(exc) else "")
                log.warning("registry not reached", extra={"error": error})
                hint = "; check the client certificate and CA bundle" if "TLS" in error else ""
                raise RegistryUnavailable(f"registry not reached: {error}{hint}") from None
            if response.status_code == 401 and not renewed and self.auth.forget():
                renewed = True  # a cached token can be revoked before it expires: renew once
                continue
            if response.status_code not in RETRY_STATUSES or attempt >= self.retries:
                return response, attempt + 1
            retry_after = retry_after_seconds(response.headers.get("retry-after"))
            if retry_after is not None and retry_after > self.max_wait:
                return response, attempt + 1  # longer than we make a resident wait
            wait = retry_after if retry_after is not None else FIRST_BACKOFF_S * 2**attempt
            wait = min(wait, self.max_wait)
            log.warning(
                "registry busy, trying again",
                extra={"status": response.status_code, "attempt": attempt + 1, "wait_s": wait},
            )
            self._sleep(wait)
            attempt += 1

    def _failure(self, response: httpx.Response, attempts: int) -> RegistryError:
        """The error for a non-200 answer, from its status and `Foutbericht`."""
        status = response.status_code
        try:
            problem = response.json()
        except ValueError:
            problem = None
        if not isinstance(problem, dict):
            problem = {}
        code, title = scrub(problem.get("code"), 25), scrub(problem.get("title"))
        params = problem.get("invalidParams")
        names = [scrub(p.get("name"), 30) for p in params or () if isinstance(p, dict)]
        summary = f"HTTP {status}" + (f" {code}" if code else "") + (f": {title}" if title else "")
        if names:
            summary += f" (invalid: {', '.join(n for n in names if n)})"
        kind: type[RegistryError] = RegistryRejectedRequest
        if status in RETRY_STATUSES or status >= 500:
            kind = RegistryUnavailable
        elif status in (401, 403):
            kind = RegistryAccessDenied
        hint = HINTS.get(status, "an answer the contract does not lead to expect")
        if kind is RegistryUnavailable:
            hint = f"busy or down, gave up after {attempts} attempt(s)"
        retry_after = retry_after_seconds(response.headers.get("retry-after"))
        log.warning(
            "registry lookup failed",
            extra={"status": status, "problem_code": code, "problem_title": title},
        )
        return kind(
            f"{summary}; {hint}", status=status, code=code, title=title, retry_after=retry_after
        )

    def _record(self, response: httpx.Response) -> RegistryRecord:
        """The one `Persoon` of a `RaadpleegMetBurgerservicenummerResponse`, read strictly."""
        media = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json":
            raise RegistryBadResponse(f"registry answered {media or 'no media type'}, not JSON")
        try:
            body = response.json()
        except ValueError:
            raise RegistryBadResponse("registry answer is not JSON") from None
        try:
            record, unexpected = parse_answer(body)
        except MalformedRecord as exc:
            raise RegistryBadResponse(f"registry answer not per contract: {exc}") from None
        if record is None:
            raise NotInRegistry(
                "the registry has no person with this BSN"
                + (f" in gemeente {self.municipality}" if self.municipality else "")
            )
        if unexpected:
            log.warning(
                "registry answered members Kluis did not ask for; dropped unread",
                extra={"members": unexpected},
            )
        return record
