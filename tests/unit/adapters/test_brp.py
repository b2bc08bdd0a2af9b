"""The Haal Centraal BRP adapter against the official contract (a respx double that checks
every request and answer, `tests.support.brp_contract`), and what Kluis derives from a record:
postcode claims and whether "18 or older" is certain. No network, no real sleeping."""

from __future__ import annotations

import base64
import datetime as dt
import inspect
import logging
import traceback
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

from adapters.brp import (
    FIELDS,
    Credentials,
    DevelopmentRegistry,
    HttpRegistry,
    InvalidBsn,
    NotInRegistry,
    Registry,
    RegistryAccessDenied,
    RegistryBadResponse,
    RegistryError,
    RegistryRejectedRequest,
    RegistryUnavailable,
    valid_bsn,
)
from adapters.brp_auth import ApiKey, ClientCredentials
from adapters.brp_claims import (
    FullDate,
    RegistryRecord,
    UnknownDate,
    YearDate,
    YearMonthDate,
    birth_bounds,
    home_address,
    postcode_claims,
)
from attestations import types as attestation_types
from attestations.types import InvalidClaims, age_claims_between
from core import translate
from tests.support.brp_contract import (
    ContractViolation,
    contract_fake,
    field_paths,
    problem,
    violations,
)
from tests.support.brp_people import ADRES, BSN, ELSEWHERE, full, person

BASE = "https://brp.test/haalcentraal/api/brp"
PERSONEN = BASE + "/personen"
TOKEN_URL = "https://login.test/oauth2/token"
OTHER_BSN = "123456782"


def age_claims(record: RegistryRecord, today: dt.date) -> dict[str, Any] | None:
    """What an `age` attestation from this record says: the registry's bounds on the birth
    date, through the attestation type's one rule (attestations.types.age_claims_between)."""
    bounds = birth_bounds(record, today)
    if bounds is None:
        return None
    try:
        return age_claims_between(*bounds, today)
    except InvalidClaims:
        return None  # no threshold is certain


def is_adult(record: RegistryRecord, today: dt.date) -> bool | None:
    claims = age_claims(record, today)
    value = claims.get("age_over_18") if claims is not None else None
    return value if isinstance(value, bool) else None


TODAY = dt.date(2026, 5, 17)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        yield mock


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def registry(**options: Any) -> HttpRegistry:
    options.setdefault("auth", ApiKey("k3y"))
    options.setdefault("sleep", Sleeps())
    return HttpRegistry(BASE, **options)


# --- the request ----------------------------------------------------------------------------


def test_request_is_a_contract_query_for_only_the_needed_fields(router: respx.MockRouter) -> None:
    fake = contract_fake({BSN: person()})
    router.post(PERSONEN).mock(side_effect=fake)

    registry().lookup(BSN)

    assert fake.bodies == [
        {
            "type": "RaadpleegMetBurgerservicenummer",
            "burgerservicenummer": [BSN],
            "fields": [
                "verblijfplaats.type",
                "verblijfplaats.verblijfadres.postcode",
                "verblijfplaats.verblijfadres.huisnummer",
                "verblijfplaats.verblijfadres.huisletter",
                "verblijfplaats.verblijfadres.huisnummertoevoeging",
                "gemeenteVanInschrijving",
                "geboorte.datum",
            ],
        }
    ]
    assert fake.requests[0].headers["content-type"] == "application/json; charset=utf-8"
    assert set(FIELDS) <= field_paths()


def test_municipality_filter_is_sent_and_limits_the_answer(router: respx.MockRouter) -> None:
    rotterdam = {"code": "0599", "omschrijving": "Rotterdam"}
    fake = contract_fake({BSN: person(gemeenteVanInschrijving=rotterdam)})
    router.post(PERSONEN).mock(side_effect=fake)

    with pytest.raises(NotInRegistry, match="gemeente 0363"):
        registry(municipality="0363").lookup(BSN)
    assert registry(municipality="0599").lookup(BSN).municipality is not None
    assert [body["gemeenteVanInschrijving"] for body in fake.bodies] == ["0363", "0599"]


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"inclusiefOverledenPersonen": True}, "not a member"),
        ({"fields": ["verblijfplaats.postcode"]}, "not a path"),
        ({"fields": ["inOnderzoek"]}, "not a path"),
        ({"fields": ["geboorte.datum", "geboorte.datum"]}, "twice"),
        ({"burgerservicenummer": BSN}, "not of type"),
        ({"type": "ZoekMetPostcodeEnHuisnummer"}, "another schema"),
    ],
)
def test_fake_refuses_a_request_the_contract_does_not_allow(
    change: dict[str, Any], complaint: str
) -> None:
    body = {"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [BSN]}
    body |= {"fields": list(FIELDS)} | change
    request = httpx.Request(
        "POST", PERSONEN, json=body, headers={"content-type": "application/json; charset=utf-8"}
    )

    with pytest.raises(ContractViolation, match=complaint):
        contract_fake({BSN: person()})(request)


def test_fake_refuses_an_answer_the_contract_does_not_allow() -> None:
    bad_date = {"type": "Datum", "datum": "17-05-1990", "langFormaat": "17 mei 1990"}
    fake = contract_fake({BSN: person(geboorte={"datum": bad_date})})
    sent = httpx.Request(
        "POST",
        PERSONEN,
        json=registry().query(BSN),
        headers={"content-type": "application/json; charset=utf-8"},
    )

    with pytest.raises(ContractViolation, match='is not a "date"'):
        fake(sent)
    unknown = {"type": "Adres", "verblijfadres": {"postcde": "1087AB"}}
    answer = {"type": "RaadpleegMetBurgerservicenummer", "personen": [{"verblijfplaats": unknown}]}
    assert violations("RaadpleegMetBurgerservicenummerResponse", answer) == [
        "/personen/0/verblijfplaats/verblijfadres/postcde: not a member the contract declares here"
    ]


# --- authentication -------------------------------------------------------------------------


def test_api_key_is_sent_in_its_header(router: respx.MockRouter) -> None:
    fake = contract_fake({BSN: person()})
    router.post(PERSONEN).mock(side_effect=fake)

    registry(auth=ApiKey("s3cret", header="X-Api-Key")).lookup(BSN)

    assert fake.requests[0].headers["x-api-key"] == "s3cret"
    assert "s3cret" not in repr(ApiKey("s3cret"))


class TokenEndpoint:
    def __init__(self, lifetime: int = 300) -> None:
        self.issued = 0
        self.lifetime = lifetime

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert (
            request.headers["authorization"]
            == "Basic " + base64.b64encode(b"kluis:p%40ss%20word").decode()
        )
        assert request.content == b"grant_type=client_credentials&scope=brp.personen"
        self.issued += 1
        token = {"access_token": f"t{self.issued}", "token_type": "Bearer"}
        return httpx.Response(200, json=token | {"expires_in": self.lifetime})


def test_client_credentials_token_is_cached_and_renewed_before_expiry(
    router: respx.MockRouter,
) -> None:
    now = [1000.0]
    tokens = TokenEndpoint(lifetime=300)
    router.post(TOKEN_URL).mock(side_effect=tokens)
    fake = contract_fake({BSN: person()})
    router.post(PERSONEN).mock(side_effect=fake)
    auth = ClientCredentials(TOKEN_URL, "kluis", "p@ss word", "brp.personen", clock=lambda: now[0])
    brp = registry(auth=auth)

    brp.lookup(BSN)
    now[0] += 269  # 31 s before expiry: still cached
    brp.lookup(BSN)
    now[0] += 1  # within the margin: renewed
    brp.lookup(BSN)

    assert [r.headers["authorization"] for r in fake.requests] == [
        "Bearer t1",
        "Bearer t1",
        "Bearer t2",
    ]
    assert "p@ss word" not in repr(auth)


def test_a_refused_token_is_renewed_once(router: respx.MockRouter) -> None:
    tokens = TokenEndpoint()
    router.post(TOKEN_URL).mock(side_effect=tokens)
    fake = contract_fake({BSN: person()}, problems=[401])
    router.post(PERSONEN).mock(side_effect=fake)
    auth = ClientCredentials(TOKEN_URL, "kluis", "p@ss word", "brp.personen")

    registry(auth=auth).lookup(BSN)
    fake.problems = [401, 401]
    with pytest.raises(RegistryAccessDenied, match="401 authentication"):
        registry(auth=auth).lookup(BSN)

    assert tokens.issued == 3  # t1 refused, t2 used, then t2 refused, t3 refused: give up
    assert len(fake.requests) == 4


@pytest.mark.parametrize(
    ("status", "error"), [(401, RegistryAccessDenied), (503, RegistryUnavailable)]
)
def test_token_endpoint_failure_is_mapped(
    router: respx.MockRouter, status: int, error: type[RegistryError]
) -> None:
    router.post(TOKEN_URL).respond(status, json={"error": "invalid_client"})
    personen = router.post(PERSONEN)
    auth = ClientCredentials(TOKEN_URL, "kluis", "secret")

    with pytest.raises(error, match=f"HTTP {status} invalid_client"):
        registry(auth=auth).lookup(BSN)
    assert not personen.called


def test_both_credentials_satisfy_their_protocol() -> None:
    for method in ("headers", "forget"):
        expected = inspect.signature(getattr(Credentials, method))
        for implementation in (ApiKey, ClientCredentials):
            assert inspect.signature(getattr(implementation, method)) == expected


# --- retries, errors, timeouts --------------------------------------------------------------


def test_busy_registry_is_retried_with_backoff_or_retry_after(router: respx.MockRouter) -> None:
    fake = contract_fake({BSN: person()}, problems=[503, 429])
    router.post(PERSONEN).mock(side_effect=fake)
    sleeps = Sleeps()

    registry(sleep=sleeps).lookup(BSN)
    fake.problems = [(429, "3")]
    registry(sleep=sleeps).lookup(BSN)

    assert sleeps == [0.5, 1.0, 3.0]
    assert len(fake.requests) == 5


def test_retries_stop_at_the_bound(router: respx.MockRouter) -> None:
    fake = contract_fake({BSN: person()}, problems=[503, 503, 503, 503])
    router.post(PERSONEN).mock(side_effect=fake)
    sleeps = Sleeps()

    with pytest.raises(RegistryUnavailable, match="503 notAvailable") as caught:
        registry(sleep=sleeps, retries=2).lookup(BSN)

    assert sleeps == [0.5, 1.0]
    assert len(fake.requests) == 3
    assert "3 attempt(s)" in str(caught.value)


@pytest.mark.parametrize("retry_after", ["120", "Wed, 21 Oct 2099 07:28:00 GMT"])
def test_retry_after_beyond_the_cap_is_not_waited_for(
    router: respx.MockRouter, retry_after: str
) -> None:
    fake = contract_fake({BSN: person()}, problems=[(429, retry_after)])
    router.post(PERSONEN).mock(side_effect=fake)
    sleeps = Sleeps()

    with pytest.raises(RegistryUnavailable) as caught:
        registry(sleep=sleeps, max_wait=10).lookup(BSN)

    assert sleeps == []
    assert caught.value.retry_after is not None and caught.value.retry_after >= 120


@pytest.mark.parametrize(
    ("status", "error", "code", "key"),
    [
        (400, RegistryRejectedRequest, "paramsRequired", "registry.failed"),
        (401, RegistryAccessDenied, "authentication", "registry.failed"),
        (403, RegistryAccessDenied, "autorisation", "registry.failed"),
        (404, RegistryRejectedRequest, "notFound", "registry.failed"),
        (406, RegistryRejectedRequest, "notAcceptable", "registry.failed"),
        (415, RegistryRejectedRequest, "unsupported", "registry.failed"),
        (500, RegistryUnavailable, "serverError", "registry.unavailable"),
    ],
)
def test_problem_answers_are_mapped_and_never_retried(
    router: respx.MockRouter, status: int, error: type[RegistryError], code: str, key: str
) -> None:
    fake = contract_fake({BSN: person()}, problems=[status])
    router.post(PERSONEN).mock(side_effect=fake)
    title = problem(status).json()["title"]

    with pytest.raises(error) as caught:
        registry().lookup(BSN)

    assert len(fake.requests) == 1
    assert (caught.value.status, caught.value.code) == (status, code)
    assert f"HTTP {status} {code}: {title}" in str(caught.value)
    assert caught.value.resident_key == key
    assert translate("nl", key) != key and translate("en", key) != translate("nl", key)
    if status == 400:
        assert "(invalid: huisnummer)" in str(caught.value)


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow"), httpx.ConnectError("x")]
)
def test_timeouts_and_unreachable_registry_are_unavailable_without_retry(
    router: respx.MockRouter, failure: httpx.HTTPError
) -> None:
    route = router.post(PERSONEN).mock(side_effect=failure)
    sleeps = Sleeps()

    with pytest.raises(RegistryUnavailable, match=type(failure).__name__) as caught:
        registry(sleep=sleeps, timeout=2).lookup(BSN)

    assert route.call_count == 1 and sleeps == []
    assert caught.value.resident_key == "registry.unavailable"


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html/>", headers={"content-type": "text/html"}),
        httpx.Response(200, json={"type": "RaadpleegMetBurgerservicenummer", "personen": [{}, {}]}),
        httpx.Response(200, json={"type": "ZoekMetPostcodeEnHuisnummer", "personen": []}),
        httpx.Response(
            200,
            json={"type": "RaadpleegMetBurgerservicenummer", "personen": [{"leeftijd": "18"}]},
        ),
        httpx.Response(
            200,
            json={
                "type": "RaadpleegMetBurgerservicenummer",
                "personen": [
                    {"verblijfplaats": {"type": "Adres", "verblijfadres": {"postcode": "1087"}}}
                ],
            },
        ),
    ],
)
def test_answers_outside_the_contract_are_refused(
    router: respx.MockRouter, answer: httpx.Response
) -> None:
    router.post(PERSONEN).mock(return_value=answer)

    with pytest.raises(RegistryBadResponse):
        registry().lookup(BSN)


def test_unknown_bsn_is_not_in_registry(router: respx.MockRouter) -> None:
    router.post(PERSONEN).mock(side_effect=contract_fake({}))

    with pytest.raises(NotInRegistry) as caught:
        registry().lookup(BSN)
    assert caught.value.resident_key == "registry.not_found"


# --- the BSN --------------------------------------------------------------------------------


@pytest.mark.parametrize("bsn", [BSN, OTHER_BSN, "111222333", "000000152"])
def test_elfproef_accepts_valid_numbers(bsn: str) -> None:
    assert valid_bsn(bsn)


@pytest.mark.parametrize(
    "bsn",
    ["123456789", "99999365", "9999936530", "99999365a", " 99999365", "000000000", "٩٩٩٩٩٣٦٥٣"],
)
def test_invalid_bsn_is_refused_before_any_request(router: respx.MockRouter, bsn: str) -> None:
    route = router.post(PERSONEN)

    with pytest.raises(InvalidBsn) as caught:
        registry().lookup(bsn)
    with pytest.raises(InvalidBsn):
        DevelopmentRegistry({}).lookup(bsn)

    assert not route.called
    assert bsn not in str(caught.value)
    assert caught.value.resident_key == "registry.invalid_bsn"


def test_no_bsn_or_personal_data_in_logs_or_errors(
    router: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake = contract_fake({BSN: person(naam={"voornamen": "Klaas"})}, problems=[503, 400, 403])
    route = router.post(PERSONEN).mock(side_effect=fake)
    errors: list[BaseException] = []
    for _ in range(4):
        try:
            registry(retries=1).lookup(BSN)
        except RegistryError as exc:
            errors.append(exc)
    route.mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(RegistryUnavailable) as timeout:
        registry().lookup(BSN)
    route.mock(return_value=httpx.Response(200, json={"type": "RaadpleegMetBurgerservicenummer",
        "personen": [{"naam": {"voornamen": "Klaas"}, "leeftijd": 36}]}))  # fmt: skip
    registry().lookup(BSN)  # members not asked for are dropped, named in the log

    errors.append(timeout.value)
    assert len(errors) == 3 and caplog.records
    texts = ["".join(traceback.format_exception(e)) for e in errors] + [
        f"{r.getMessage()} {r.__dict__}" for r in caplog.records
    ]
    for text in texts:
        for personal in (BSN, "Klaas", "1087AB", "1990-05-17"):
            assert personal not in text
    assert any("'naam'" in text for text in texts)


def test_configuration_is_checked() -> None:
    with pytest.raises(ValueError, match="https"):
        HttpRegistry("http://brp.test/haalcentraal/api/brp", ApiKey("k"))
    with pytest.raises(ValueError, match="gemeentecode"):
        HttpRegistry(BASE, ApiKey("k"), municipality="363")
    with pytest.raises(ValueError, match="https"):
        ClientCredentials("http://login.test/token", "kluis", "secret")
    with pytest.raises(ValueError, match="elfproef"):
        DevelopmentRegistry({"123456789": RegistryRecord()})
    local = HttpRegistry(
        "http://127.0.0.1:5010/haalcentraal/api/brp/", ApiKey("k"), allow_http=True
    )
    assert local.url == "http://127.0.0.1:5010/haalcentraal/api/brp/personen"


# --- the Protocol ---------------------------------------------------------------------------


def test_both_registries_satisfy_the_protocol(caplog: pytest.LogCaptureFixture) -> None:
    development = DevelopmentRegistry({BSN: RegistryRecord(age=40)})

    assert "development registry in use" in caplog.text
    expected = inspect.signature(Registry.lookup)
    for implementation in (HttpRegistry, DevelopmentRegistry):
        assert inspect.signature(implementation.lookup) == expected
    assert isinstance(development, Registry) and isinstance(registry(), Registry)
    assert development.lookup(BSN) == RegistryRecord(age=40)
    with pytest.raises(NotInRegistry):
        development.lookup(OTHER_BSN)


# --- what Kluis derives ---------------------------------------------------------------------


def lookup_via_contract(router: respx.MockRouter, **members: Any) -> RegistryRecord:
    router.post(PERSONEN).mock(side_effect=contract_fake({BSN: person(**members)}))
    return registry().lookup(BSN)


@pytest.mark.parametrize("postcode", ["1087AB", "1087 ab"])
def test_dutch_address_gives_postcode_claims_of_the_attestation_shape(
    router: respx.MockRouter, postcode: str
) -> None:
    place = ADRES | {"verblijfadres": {"postcode": postcode}}
    record = lookup_via_contract(router, verblijfplaats=place)

    claims = postcode_claims(record)

    assert claims == {
        "postcode": "1087AB",
        "municipality": {"code": "GM0363", "name": "Amsterdam"},
        "residence_source": "registry",
    }
    # what the registry gives is exactly the type's input: it derives postcode_area itself
    derived = attestation_types.credential_type("postcode").claims_from(claims, TODAY)
    assert derived == {**claims, "postcode_area": "1087"}
    assert "1087" not in repr(record) and "1990" not in repr(record)


def test_house_number_is_read_for_the_address_hash_only(
    router: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        record = lookup_via_contract(router)

    assert home_address(record) == ("1087AB", 70, "b2")  # huisletter, then the toevoeging
    claims = postcode_claims(record)
    assert claims is not None and "70" not in repr(claims) and "huis" not in repr(claims)
    assert "70" not in repr(record) and "70" not in repr(record.house)
    standard = set(vars(logging.makeLogRecord({})))
    for logged in caplog.records:  # the message and its extra fields, not the line numbers
        # (timings such as `ms` are numbers; a house number would come as text)
        extra = {k: v for k, v in vars(logged).items() if k not in standard | {"ms"}}
        assert "70" not in f"{logged.getMessage()} {extra}", logged.getMessage()


@pytest.mark.parametrize(
    "address",
    [
        {"postcode": "1087AB"},  # no house number delivered
        {"postcode": "1087SS", "huisnummer": 70},  # no postcode attestation
    ],
)
def test_no_house_number_or_no_postcode_claims_gives_no_home_address(
    router: respx.MockRouter, address: dict[str, Any]
) -> None:
    record = lookup_via_contract(router, verblijfplaats=ADRES | {"verblijfadres": address})
    assert home_address(record) is None
    assert home_address(lookup_via_contract(router, verblijfplaats=ELSEWHERE["Locatie"])) is None


@pytest.mark.parametrize(
    ("member", "value"),
    [("huisnummer", 0), ("huisnummer", "70"), ("huisletter", "bb"), ("huisnummertoevoeging", 2)],
)
def test_a_house_number_out_of_contract_is_a_bad_response(
    router: respx.MockRouter, member: str, value: Any
) -> None:
    answer = {
        "type": "RaadpleegMetBurgerservicenummer",
        "personen": [
            {"verblijfplaats": {"type": "Adres", "verblijfadres": {"huisnummer": 1, member: value}}}
        ],
    }
    router.post(PERSONEN).mock(return_value=httpx.Response(200, json=answer))

    with pytest.raises(RegistryBadResponse, match=member) as caught:
        registry().lookup(BSN)
    assert str(value) not in str(caught.value).replace(member, "")


@pytest.mark.parametrize("kind", sorted(ELSEWHERE))
def test_residence_elsewhere_gives_no_postcode_claims(router: respx.MockRouter, kind: str) -> None:
    record = lookup_via_contract(router, verblijfplaats=ELSEWHERE[kind])

    assert record.residence == kind
    assert postcode_claims(record) is None


@pytest.mark.parametrize(
    "members",
    [
        {"verblijfplaats": ADRES | {"indicatieVastgesteldVerblijftNietOpAdres": True}},
        {"verblijfplaats": ADRES | {"inOnderzoek": {"type": True}}},
        {"inOnderzoek": {"gemeenteVanInschrijving": True}},
        {"opschortingBijhouding": {"reden": {"code": "O", "omschrijving": "overlijden"}}},
        {
            "gemeenteVanInschrijving": {
                "code": "1999",
                "omschrijving": "Registratie Niet Ingezetenen",
            }
        },
        {"verblijfplaats": ADRES | {"verblijfadres": {"postcode": "1087SS"}}},
    ],
)
def test_doubtful_or_suspended_residence_gives_no_postcode_claims(
    router: respx.MockRouter, members: dict[str, Any]
) -> None:
    assert postcode_claims(lookup_via_contract(router, **members)) is None


@pytest.mark.parametrize(
    ("birth", "today", "adult"),
    [
        (FullDate(dt.date(2008, 5, 17)), dt.date(2026, 5, 16), False),
        (FullDate(dt.date(2008, 5, 17)), dt.date(2026, 5, 17), True),
        (FullDate(dt.date(2008, 2, 29)), dt.date(2026, 2, 28), False),
        (FullDate(dt.date(2008, 2, 29)), dt.date(2026, 3, 1), True),
        (YearDate(1990), TODAY, True),
        (YearDate(2008), dt.date(2025, 12, 31), False),
        (YearDate(2008), dt.date(2026, 1, 1), None),
        (YearDate(2008), dt.date(2026, 12, 30), None),
        (YearDate(2008), dt.date(2026, 12, 31), True),
        (YearDate(2026), TODAY, False),
        (YearMonthDate(2008, 5), dt.date(2026, 4, 30), False),
        (YearMonthDate(2008, 5), dt.date(2026, 5, 1), None),
        (YearMonthDate(2008, 5), dt.date(2026, 5, 30), None),
        (YearMonthDate(2008, 5), dt.date(2026, 5, 31), True),
        (YearMonthDate(2008, 12), dt.date(2026, 12, 31), True),
        (YearMonthDate(2008, 2), dt.date(2026, 2, 28), None),
        (YearMonthDate(2008, 2), dt.date(2026, 3, 1), True),
        (UnknownDate(), TODAY, None),
        (None, TODAY, None),
        (FullDate(dt.date(2027, 1, 1)), TODAY, None),
    ],
)
def test_eighteen_or_older_is_decided_only_when_certain(
    birth: Any, today: dt.date, adult: bool | None
) -> None:
    assert is_adult(RegistryRecord(birth=birth), today) is adult


@pytest.mark.parametrize(("age", "adult"), [(17, False), (18, True)])
def test_leeftijd_decides_when_given(age: int, adult: bool) -> None:
    record = RegistryRecord(age=age, birth=YearDate(2008))
    assert is_adult(record, dt.date(2026, 6, 1)) is adult


@pytest.mark.parametrize(
    ("datum", "adult"),
    [
        (full(dt.date(2008, 5, 18)), False),
        ({"type": "JaarMaandDatum", "jaar": 2008, "maand": 4, "langFormaat": "april 2008"}, True),
        ({"type": "JaarDatum", "jaar": 2008, "langFormaat": "2008"}, None),
        ({"type": "DatumOnbekend", "onbekend": True, "langFormaat": "onbekend"}, None),
    ],
)
def test_every_date_type_of_the_contract_is_read(
    router: respx.MockRouter, datum: dict[str, Any], adult: bool | None
) -> None:
    record = lookup_via_contract(router, geboorte={"datum": datum})
    assert is_adult(record, TODAY) is adult


def test_doubtful_birth_date_or_suspension_decides_nothing(router: respx.MockRouter) -> None:
    doubtful = {"datum": full(dt.date(1990, 5, 17)), "inOnderzoek": {"datum": True}}
    assert is_adult(lookup_via_contract(router, geboorte=doubtful), TODAY) is None
    suspended = RegistryRecord(birth=FullDate(dt.date(1990, 5, 17)), suspended="O")
    assert is_adult(suspended, TODAY) is None and age_claims(suspended, TODAY) is None


def test_age_claims_match_the_age_attestation_and_leave_out_what_is_uncertain() -> None:
    for birth in (dt.date(1960, 5, 18), dt.date(2008, 5, 17), dt.date(2014, 1, 1)):
        record = RegistryRecord(birth=FullDate(birth))
        assert age_claims(record, TODAY) == attestation_types.age_claims(birth, TODAY)
    assert age_claims(RegistryRecord(birth=YearDate(1990)), TODAY) == {
        "age_over_12": True,
        "age_over_16": True,
        "age_over_18": True,
        "age_over_21": True,
        "age_over_65": False,
    }
    # 18 is certain, 65 is not: the attestation says only what is certain
    assert is_adult(RegistryRecord(birth=YearDate(1961)), TODAY) is True
    assert age_claims(RegistryRecord(birth=YearDate(1961)), TODAY) == {
        "age_over_12": True,
        "age_over_16": True,
        "age_over_18": True,
        "age_over_21": True,
    }
    assert age_claims(RegistryRecord(birth=UnknownDate()), TODAY) is None
