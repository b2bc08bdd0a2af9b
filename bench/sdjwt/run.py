"""SD-JWT benchmark: Kluis and the reference `sd-jwt` package, in one run on this machine.

    .venv/bin/python bench/sdjwt/run.py --seconds 5

Per second, in one Python process, the three implementations of an operation in turns:

- issue:  an SD-JWT (typ dc+sd-jwt, ES256) with 6 selectively disclosable claims and holder
          binding (cnf.jwk), serialized with its 6 Disclosures;
- verify: a presentation of 2 of those claims with a KB-JWT: issuer signature, Disclosures,
          KB-JWT signature, nonce, aud and sd_hash.

For Kluis (attestations.sdjwt), for the reference implementation (sd-jwt, jwcrypto underneath)
and for the floor: the bare ES256 signatures (`cryptography`) that any issuer or verifier must
compute. Prints ops/s, µs/op and the ratios Kluis/reference and Kluis/floor. A benchmark, not a
test: it never fails on time.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: E402
from jwcrypto.jwk import JWK  # noqa: E402
from sd_jwt.common import SDObj  # noqa: E402
from sd_jwt.issuer import SDJWTIssuer  # noqa: E402
from sd_jwt.verifier import SDJWTVerifier  # noqa: E402

from attestations.sdjwt import (  # noqa: E402
    HeldSdJwt,
    KeyBindingExpectation,
    VerificationPolicy,
    checked_jwk,
    issue_sd_jwt,
    public_jwk,
    verify_sd_jwt,
)
from attestations.sdjwt.encoding import b64url_decode  # noqa: E402
from attestations.sdjwt.errors import MalformedSdJwt  # noqa: E402

TYP = "dc+sd-jwt"
ISSUER = "https://kluis.example"
NONCE = "n-0S6_WzA2Mj-bench"
AUDIENCE = "https://buurtplatform.example"
CLEAR: dict[str, Any] = {"iss": ISSUER, "vct": f"{ISSUER}/vct/bench", "exp": 4_102_444_800}
DISCLOSABLE: dict[str, Any] = {
    "postcode": "1087AB",
    "postcode_area": "1087",
    "municipality_code": "GM0363",
    "municipality_name": "Amsterdam",
    "residence_source": "registry",
    "age_over_18": True,
}
DISCLOSED = ("postcode_area", "age_over_18")
ECDSA = ec.ECDSA(hashes.SHA256())
ISSUER_KEY = ec.generate_private_key(ec.SECP256R1())
HOLDER_KEY = ec.generate_private_key(ec.SECP256R1())
# The Holder's public key as both issuers get it, made beforehand from the JWK of the wallet's
# key proof (OpenID4VCI proofs carry a JWK): for the reference a jwcrypto JWK, for Kluis a
# CheckedJwk, as its credential endpoint makes it when it checks the proof (no private members,
# known curve, coordinate lengths, the point on the curve), so that the issuer does not check it
# a second time. Each issuer writes it into cnf.jwk on every issuance.
HOLDER_JWK = public_jwk(HOLDER_KEY.public_key())
HOLDER_CHECKED = checked_jwk(HOLDER_JWK, MalformedSdJwt)
# The three verifiers run in turns, so a presentation lives about 3 x --seconds; a KB-JWT older
# than 300 s (+60 s leeway) is stale to Kluis's verifier.
MAX_SECONDS = 100

CHECKS = {
    ("issue", "kluis"): "6 Disclosures (128-bit salts), sorted digests, no decoys, cnf.jwk "
    "copied from the holder key checked once beforehand (CheckedJwk: no private members, curve, "
    "lengths, point on the curve), ES256 JWS",
    ("issue", "reference"): "the same (SDJWTIssuer, add_decoy_claims=False); cnf.jwk exported "
    "from its JWK made once beforehand",
    ("issue", "floor"): "1 ES256 signature over the same signing input (DER, no JOSE)",
    ("verify", "kluis"): "typ=dc+sd-jwt, alg in {ES256}, no crit; issuer signature; _sd_alg "
    "allow-list; each Disclosure referenced exactly once, no duplicate digests or names; "
    "exp/nbf/iat (60 s leeway); required iss, vct, iat, exp, cnf; iss = expected; KB-JWT: "
    "cnf.jwk, typ=kb+jwt, alg, signature, iat/aud/nonce/sd_hash present, iat within 300 s, "
    "nonce, aud and sd_hash (constant-time)",
    ("verify", "reference"): "issuer signature (alg from the header); _sd_alg = sha-256; "
    "duplicate digests; KB-JWT: signature with cnf.jwk, typ=kb+jwt, aud, nonce, sd_hash. "
    "Not checked: typ, exp/nbf/iat, KB-JWT iat, unreferenced Disclosures (ignored), "
    "required claims, iss",
    ("verify", "floor"): "2 ES256 verifications (issuer JWT, KB-JWT), keys loaded and "
    "signatures converted to DER beforehand: no parsing, base64, JSON, digests or key loading",
}


def kluis_issue() -> str:
    return issue_sd_jwt(
        {**CLEAR, **DISCLOSABLE},
        issuer_key=ISSUER_KEY,
        disclosable=[(name,) for name in DISCLOSABLE],
        typ=TYP,
        holder_key=HOLDER_CHECKED,
        iat=int(time.time()),
    ).serialize()


ISSUER_JWK = JWK.from_pyca(ISSUER_KEY)
# from_pyca adds a thumbprint kid, which would then appear in cnf.jwk; Kluis puts none there.
HOLDER_PUBLIC_JWK = JWK(**HOLDER_JWK)
ISSUER_PUBLIC_JWK = JWK.from_pyca(ISSUER_KEY.public_key())


def reference_issue() -> str:
    claims = {**CLEAR, "iat": int(time.time())}
    claims.update({SDObj(name): value for name, value in DISCLOSABLE.items()})
    issuer = SDJWTIssuer(
        claims,
        ISSUER_JWK,
        HOLDER_PUBLIC_JWK,
        add_decoy_claims=False,
        extra_header_parameters={"typ": TYP},
    )
    return str(issuer.sd_jwt_issuance)


def present() -> str:
    """A fresh presentation by Kluis's Holder; both verifiers get one made this way (the
    reference accepts Kluis presentations: tests/unit/attestations/test_sdjwt_interop.py)."""
    return HeldSdJwt.parse(kluis_issue()).present(
        [(name,) for name in DISCLOSED], holder_key=HOLDER_KEY, nonce=NONCE, audience=AUDIENCE
    )


POLICY = VerificationPolicy(
    expected_typ=TYP,
    algorithms=frozenset({"ES256"}),
    key_binding=KeyBindingExpectation(NONCE, AUDIENCE),
    required_claims=("iss", "vct", "iat", "exp", "cnf"),
    expected_issuer=ISSUER,
)


def kluis_verify(presentation: str) -> Callable[[], Any]:
    issuer_public = ISSUER_KEY.public_key()
    return lambda: (
        verify_sd_jwt(
            presentation, key_resolver=lambda header, payload: issuer_public, policy=POLICY
        ).claims
    )


def reference_verify(presentation: str) -> Callable[[], Any]:
    def key(issuer: str, header: dict[str, Any]) -> JWK:
        return ISSUER_PUBLIC_JWK

    return lambda: SDJWTVerifier(presentation, key, AUDIENCE, NONCE).get_verified_payload()


def _der(jws: str) -> tuple[bytes, bytes]:
    head, body, signature = jws.split(".")
    raw = b64url_decode(signature, MalformedSdJwt)
    r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    return f"{head}.{body}".encode("ascii"), encode_dss_signature(r, s)


def floor_issue() -> Callable[[], Any]:
    signing_input, _ = _der(kluis_issue().split("~")[0])
    return lambda: ISSUER_KEY.sign(signing_input, ECDSA)


def floor_verify(presentation: str) -> Callable[[], Any]:
    parts = presentation.split("~")
    issuer_input, issuer_signature = _der(parts[0])
    kb_input, kb_signature = _der(parts[-1])
    issuer_public, holder_public = ISSUER_KEY.public_key(), HOLDER_KEY.public_key()

    def both() -> None:
        issuer_public.verify(issuer_signature, issuer_input, ECDSA)
        holder_public.verify(kb_signature, kb_input, ECDSA)

    return both


CASES: dict[tuple[str, str], Callable[[], Callable[[], Any]]] = {
    ("issue", "kluis"): lambda: kluis_issue,
    ("issue", "reference"): lambda: reference_issue,
    ("issue", "floor"): floor_issue,
    ("verify", "kluis"): lambda: kluis_verify(present()),
    ("verify", "reference"): lambda: reference_verify(present()),
    ("verify", "floor"): lambda: floor_verify(present()),
}


def _require(condition: bool, what: str) -> None:
    if not condition:
        raise RuntimeError(what)


def check_equivalence() -> None:
    """Both issuers make the same credential and both verifiers see the same claims."""
    ours, theirs = HeldSdJwt.parse(kluis_issue()), HeldSdJwt.parse(reference_issue())
    _require(
        len(ours.disclosures) == len(theirs.disclosures) == len(DISCLOSABLE),
        "number of Disclosures",
    )
    _require(ours.claims == theirs.claims, f"claims differ: {ours.claims} {theirs.claims}")
    _require(ours.header == theirs.header == {"alg": "ES256", "typ": TYP}, "JOSE headers")
    presentation = present()
    _require(presentation.count("~") == 1 + len(DISCLOSED), "number of disclosed claims")
    claims = kluis_verify(presentation)()
    _require(claims == reference_verify(presentation)(), "the verifiers disagree")
    hidden = set(DISCLOSABLE) - set(DISCLOSED)
    _require(
        {k: claims.get(k) for k in DISCLOSED} == {k: DISCLOSABLE[k] for k in DISCLOSED}
        and not hidden & set(claims),
        "wrong claims disclosed",
    )
    floor_issue()()
    floor_verify(presentation)()


@dataclass
class Measurement:
    operation: str
    implementation: str
    seconds: float
    count: int = 0
    elapsed: float = 0.0
    failed: str | None = None

    @property
    def per_second(self) -> float | None:
        return self.count / self.elapsed if self.count and self.elapsed else None

    @property
    def microseconds(self) -> float | None:
        return 1e6 * self.elapsed / self.count if self.count else None


IMPLEMENTATIONS = ("kluis", "reference", "floor")
SLICE_SECONDS = 0.05


def measure_interleaved(operation: str, seconds: float, warmup: float) -> list[Measurement]:
    """The three implementations of one operation in turns of ``SLICE_SECONDS`` each, until
    each has run ``seconds``: on a shared machine a load that comes and goes then weighs on all
    three alike, and their ratios stay comparable (measured one after the other, a busy
    minute fell on one of them only)."""
    results = {impl: Measurement(operation, impl, seconds) for impl in IMPLEMENTATIONS}
    ops: dict[str, Callable[[], Any]] = {}
    for impl, result in results.items():
        try:
            ops[impl] = CASES[(operation, impl)]()
            warm_until = time.perf_counter() + warmup
            while time.perf_counter() < warm_until:
                ops[impl]()
        except Exception as exc:  # report it and go on with the other measurements
            result.failed = f"{type(exc).__name__}: {exc}"
            ops.pop(impl, None)
    gc.collect()
    while ops:
        for impl in list(ops):
            result, op = results[impl], ops[impl]
            try:
                count, start = 0, time.perf_counter()
                deadline = start + min(SLICE_SECONDS, seconds - result.elapsed)
                while (now := time.perf_counter()) < deadline:
                    op()
                    count += 1
            except Exception as exc:
                result.failed = f"{type(exc).__name__}: {exc}"
                del ops[impl]
                continue
            result.count += count
            result.elapsed += now - start
            if result.elapsed >= seconds:
                del ops[impl]
    return list(results.values())


def environment() -> dict[str, Any]:
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "machine": platform.platform(),
        "python": platform.python_version(),
        "cryptography": version("cryptography"),
        "sd-jwt": version("sd-jwt"),
        "jwcrypto": version("jwcrypto"),
        "kluis_commit": commit or None,
    }


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or not b else f"{a / b:.2f}"


def report(results: list[Measurement], env: dict[str, Any], args: argparse.Namespace) -> str:
    lines = [
        f"SD-JWT benchmark: {args.seconds:g} s per measurement after {args.warmup:g} s warm-up, "
        f"one process, {env['cpus']} CPUs, Python {env['python']}, cryptography "
        f"{env['cryptography']}, sd-jwt {env['sd-jwt']} (jwcrypto {env['jwcrypto']}), "
        f"Kluis {env['kluis_commit']}",
        f"issue: {len(DISCLOSABLE)} disclosable claims, ES256, cnf.jwk; verify: "
        f"{len(DISCLOSED)} of {len(DISCLOSABLE)} disclosed + KB-JWT (one kind of presentation "
        "for both verifiers, made by Kluis's Holder, fresh for each measurement)",
        "",
        f"{'operation':<8} {'implementation':<14} {'ops/s':>10} {'µs/op':>9}",
    ]
    by_key = {(m.operation, m.implementation): m for m in results}
    for m in results:
        lines.append(
            f"{m.operation:<8} {m.implementation:<14} {_fmt(m.per_second):>10} "
            f"{_fmt(m.microseconds):>9}"
        )
    lines += ["", "ratios of ops/s (above 1: Kluis is faster)"]
    for operation in ("issue", "verify"):
        kluis = by_key[(operation, "kluis")].per_second
        reference = by_key[(operation, "reference")].per_second
        floor = by_key[(operation, "floor")].per_second
        lines.append(
            f"{operation:<8} kluis/reference {_ratio(kluis, reference):>6}"
            f"   kluis/floor {_ratio(kluis, floor):>6}"
        )
    lines += ["", "what each one does"]
    lines += [f"  {op:<6} {impl:<9} {text}" for (op, impl), text in CHECKS.items()]
    lines += [f"! {m.operation} {m.implementation}: {m.failed}" for m in results if m.failed]
    return "\n".join(lines)


def _seconds(text: str) -> float:
    value = float(text)
    if not 0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"must be in (0, {MAX_SECONDS}]")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=_seconds, default=5.0, help="measured time per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured time before it")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    try:
        check_equivalence()
    except Exception as exc:
        print(f"! the implementations do not do the same work: {exc!r}", file=sys.stderr)
        return 1
    env = environment()
    results = [
        m for op in ("issue", "verify") for m in measure_interleaved(op, args.seconds, args.warmup)
    ]
    print(report(results, env, args))
    if args.json:
        payload = {
            "environment": env,
            "arguments": {"seconds": args.seconds, "warmup": args.warmup},
            "checks": {f"{op}/{impl}": text for (op, impl), text in CHECKS.items()},
            "results": [
                {**asdict(m), "per_second": m.per_second, "microseconds": m.microseconds}
                for m in results
            ],
        }
        args.json.write_text(json.dumps(payload, indent=2))
    # Slow is never a failure; a measurement that could not be taken is.
    return 1 if any(m.failed for m in results) else 0


if __name__ == "__main__":
    sys.exit(main())
