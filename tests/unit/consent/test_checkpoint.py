"""C2SP tlog-checkpoint and signed-note (Ed25519): formats, interop answers and attacks."""

from __future__ import annotations

import base64
import hashlib

import pytest

from audit.checkpoint import (
    Checkpoint,
    InvalidKeyError,
    InvalidSignatureError,
    MalformedCheckpointError,
    MalformedNoteError,
    NoteSigner,
    NoteVerifier,
    UnexpectedOriginError,
    UnverifiedNoteError,
    format_checkpoint,
    key_id,
    open_checkpoint,
    parse_checkpoint,
    sign_checkpoint,
    sign_note,
    verify_note,
)
from audit.merkle import inclusion_proof, leaf_hash, root_from_leaf_hashes
from audit.proofs import verify_inclusion

# The example key and note of Go's golang.org/x/mod/sumdb/note (note_test.go), which Go
# witnesses and monitors use. Ed25519 is deterministic, so signing must reproduce it exactly.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_SIGNATURE_LINE = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfq"
    "dngotpRZb6KE6RyyBwJnAM=\n"
)

ORIGIN = "kluis.example/audit"
LOG_KEY = NoteSigner(ORIGIN, hashlib.sha256(b"test log key").digest())
OTHER_KEY = NoteSigner("witness.example/w1", hashlib.sha256(b"test witness key").digest())
CHECKPOINT = Checkpoint(ORIGIN, 20852163, hashlib.sha256(b"root").digest())


def go_signer() -> NoteSigner:
    # PRIVATE+KEY+<name>+<key id>+base64(0x01 || 32-byte seed)
    seed = base64.b64decode(GO_SKEY.split("+", 4)[4])[1:]
    return NoteSigner("PeterNeumann", seed)


# --- interop with the reference implementation ----------------------------------------------


def test_signing_reproduces_the_go_reference_note_byte_for_byte() -> None:
    signer = go_signer()
    assert signer.verifier.to_string() == GO_VKEY
    assert sign_note(GO_TEXT, [signer]) == GO_TEXT + "\n" + GO_SIGNATURE_LINE


def test_the_go_reference_note_verifies_with_its_verifier_key() -> None:
    verifier = NoteVerifier.from_string(GO_VKEY)
    opened = verify_note(GO_TEXT + "\n" + GO_SIGNATURE_LINE, [verifier])
    assert opened.text == GO_TEXT
    assert opened.verified_by == (verifier,)


def test_key_id_is_the_spec_construction() -> None:
    public = LOG_KEY.verifier.public_key
    want = hashlib.sha256(ORIGIN.encode() + b"\n" + b"\x01" + public).digest()[:4]
    assert key_id(ORIGIN, public) == LOG_KEY.key_id == want
    assert key_id("PeterNeumann", go_signer().verifier.public_key).hex() == "c74f20a3"
    # The signature blob starts with the key ID.
    line = sign_note("x\n", [LOG_KEY]).splitlines()[-1]
    assert base64.b64decode(line.split(" ")[-1])[:4] == want


def test_verifier_key_string_round_trips_and_manglings_are_refused() -> None:
    assert NoteVerifier.from_string(LOG_KEY.verifier.to_string()) == LOG_KEY.verifier
    # As Go's note_test.go: no proper substring and no single-character change is a key.
    for i in range(len(GO_VKEY)):
        for j in range(i + 1, len(GO_VKEY) + 1):
            if (i, j) != (0, len(GO_VKEY)):
                with pytest.raises(InvalidKeyError):
                    NoteVerifier.from_string(GO_VKEY[i:j])
    for i in range(len(GO_VKEY)):
        changed = GO_VKEY[:i] + chr(ord(GO_VKEY[i]) + 1) + GO_VKEY[i + 1 :]
        with pytest.raises(InvalidKeyError):
            NoteVerifier.from_string(changed)


@pytest.mark.parametrize("name", ["", "has space", "has+plus", "tab\there", "nbsp\u00a0x"])
def test_key_names_with_spaces_or_plus_are_refused(name: str) -> None:
    with pytest.raises(InvalidKeyError):
        NoteSigner(name, bytes(32))


# --- checkpoints -----------------------------------------------------------------------------


def test_checkpoint_body_has_the_spec_layout() -> None:
    root = base64.b64encode(CHECKPOINT.root_hash).decode()
    assert format_checkpoint(CHECKPOINT) == f"{ORIGIN}\n20852163\n{root}\n"
    with_ext = Checkpoint(ORIGIN, 0, CHECKPOINT.root_hash, ("ext one", "ext two"))
    assert format_checkpoint(with_ext).endswith(f"{root}\next one\next two\n")
    assert parse_checkpoint(format_checkpoint(with_ext)) == with_ext


def test_parses_the_spec_example_and_its_note_syntax() -> None:
    body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = parse_checkpoint(body)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    note = body + (
        "\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4U"
        "RYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
    )
    # Well formed, but signed by a key we do not know.
    with pytest.raises(UnverifiedNoteError):
        verify_note(note, [LOG_KEY.verifier])


ROOT_B64 = base64.b64encode(bytes(32)).decode()


@pytest.mark.parametrize(
    "body",
    [
        f"log\n1\n{ROOT_B64}",  # no final newline
        f"log\n1\n{ROOT_B64}\n\n",  # empty extension line
        "log\n1\n",  # no root line
        f"\n1\n{ROOT_B64}\n",  # empty origin
        f"log\n01\n{ROOT_B64}\n",  # leading zero
        f"log\n+1\n{ROOT_B64}\n",
        f"log\n-1\n{ROOT_B64}\n",
        f"log\n 1\n{ROOT_B64}\n",
        f"log\n\u0661\n{ROOT_B64}\n",  # Arabic-Indic digit one
        f"log\n18446744073709551616\n{ROOT_B64}\n",  # 2**64
        f"log\n1\n{base64.b64encode(bytes(31)).decode()}\n",  # not a SHA-256 hash
        f"log\n1\n{ROOT_B64[:-1]}\n",  # unpadded
        f"log\n1\n{ROOT_B64[:-2]}B=\n",  # non-canonical trailing bits
        f"log\r\n1\n{ROOT_B64}\n",  # control character
    ],
)
def test_malformed_checkpoint_bodies_are_refused(body: str) -> None:
    with pytest.raises(MalformedCheckpointError):
        parse_checkpoint(body)


@pytest.mark.parametrize(
    "checkpoint",
    [
        Checkpoint("", 1, bytes(32)),
        Checkpoint("two\nlines", 1, bytes(32)),
        Checkpoint("log", -1, bytes(32)),
        Checkpoint("log", 1, bytes(31)),
        Checkpoint("log", 1, bytes(32), ("",)),
        Checkpoint("log", 1, bytes(32), ("a\nb",)),
    ],
)
def test_invalid_checkpoints_are_not_formatted(checkpoint: Checkpoint) -> None:
    with pytest.raises(MalformedCheckpointError):
        format_checkpoint(checkpoint)


def test_signed_checkpoint_round_trip() -> None:
    note = sign_checkpoint(CHECKPOINT, [LOG_KEY])
    assert note.startswith(format_checkpoint(CHECKPOINT) + "\n— kluis.example/audit ")
    assert open_checkpoint(note, [LOG_KEY.verifier], origin=ORIGIN) == CHECKPOINT


def test_checkpoint_from_another_log_is_refused_even_if_validly_signed() -> None:
    note = sign_checkpoint(Checkpoint("other.example/log", 5, bytes(32)), [LOG_KEY])
    with pytest.raises(UnexpectedOriginError):
        open_checkpoint(note, [LOG_KEY.verifier], origin=ORIGIN)


def test_checkpoint_root_proves_inclusion_of_an_audit_entry() -> None:
    leaves = [leaf_hash(b"entry %d" % i) for i in range(10)]
    note = sign_checkpoint(Checkpoint(ORIGIN, 10, root_from_leaf_hashes(leaves)), [LOG_KEY])
    checkpoint = open_checkpoint(note, [LOG_KEY.verifier], origin=ORIGIN)
    proof = inclusion_proof(leaves, 7, 10)
    verify_inclusion(7, checkpoint.size, leaves[7], proof, checkpoint.root_hash)


# --- attacks on notes ------------------------------------------------------------------------

SIGNED = sign_checkpoint(CHECKPOINT, [LOG_KEY])


@pytest.mark.parametrize(
    ("old", "new"),
    [("20852163", "20852164"), (ORIGIN + "\n", ORIGIN + "x\n"), ("\n\n", "\nextra\n\n")],
)
def test_tampered_body_fails(old: str, new: str) -> None:
    with pytest.raises(InvalidSignatureError):
        verify_note(SIGNED.replace(old, new, 1), [LOG_KEY.verifier])


def test_tampered_signature_fails() -> None:
    body, line = SIGNED[:-1].rsplit("\n", 1)
    prefix, b64 = line.rsplit(" ", 1)
    blob = bytearray(base64.b64decode(b64))
    blob[10] ^= 1
    forged = f"{body}\n{prefix} {base64.b64encode(bytes(blob)).decode()}\n"
    with pytest.raises(InvalidSignatureError):
        verify_note(forged, [LOG_KEY.verifier])


def test_signature_by_an_unknown_key_does_not_verify() -> None:
    impostor = NoteSigner(ORIGIN, hashlib.sha256(b"impostor").digest())  # same name, other key
    note = sign_checkpoint(CHECKPOINT, [impostor])
    with pytest.raises(UnverifiedNoteError):
        verify_note(note, [LOG_KEY.verifier])
    with pytest.raises(UnverifiedNoteError):
        verify_note(SIGNED, [])


def test_unknown_signatures_are_ignored_when_a_known_one_verifies() -> None:
    note = sign_checkpoint(CHECKPOINT, [OTHER_KEY, LOG_KEY])
    opened = verify_note(note, [LOG_KEY.verifier])
    assert opened.verified_by == (LOG_KEY.verifier,)
    both = verify_note(note, [LOG_KEY.verifier, OTHER_KEY.verifier])
    assert set(both.verified_by) == {LOG_KEY.verifier, OTHER_KEY.verifier}


def test_a_bad_signature_by_a_known_key_rejects_the_note_despite_a_good_one() -> None:
    bad_line = sign_note("something else\n", [OTHER_KEY]).splitlines()[-1]
    note = SIGNED + bad_line + "\n"
    with pytest.raises(InvalidSignatureError):
        verify_note(note, [LOG_KEY.verifier, OTHER_KEY.verifier])


def test_two_different_known_keys_with_one_identity_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verify_note(SIGNED, [LOG_KEY.verifier, LOG_KEY.verifier])  # identical duplicates are fine
    twin = NoteVerifier(ORIGIN, OTHER_KEY.verifier.public_key)
    # A 32-bit key ID collision between two configured keys of one name: refuse to guess.
    monkeypatch.setattr("audit.checkpoint.key_id", lambda name, public_key: b"\0\0\0\0")
    with pytest.raises(InvalidKeyError, match="two different known keys"):
        verify_note(SIGNED, [LOG_KEY.verifier, twin])


_BODY = format_checkpoint(CHECKPOINT)
_LINE = SIGNED[len(_BODY) + 1 :]


@pytest.mark.parametrize(
    "note",
    [
        _BODY + _LINE.rstrip("\n"),  # no final newline
        _BODY + _LINE,  # no blank line before signatures
        _BODY + "\n" + _LINE.replace("—", "-"),  # hyphen instead of em dash
        _BODY + "\n" + _LINE.replace("— ", "—"),  # no space after the dash
        _BODY + "\n" + _LINE.replace(ORIGIN, "two words"),  # name with a space
        _BODY + "\n" + _LINE.replace(ORIGIN, ORIGIN + "+x"),  # name with a plus
        _BODY + "\n" + _LINE.replace("=", "").rstrip("\n") + "\n",  # unpadded base64
        _BODY + "\n" + "— " + ORIGIN + " AAAA\n",  # blob shorter than key ID + signature
        _BODY + "\n" + "— " + ORIGIN + " \n",  # empty signature
        _BODY + "\n" + _LINE + "\n",  # trailing blank line
        "x\x00y\n\n" + _LINE,  # control character
        _BODY + "\n" + _LINE * 101,  # too many signatures
    ],
)
def test_malformed_notes_are_refused(note: str) -> None:
    with pytest.raises(MalformedNoteError):
        verify_note(note, [LOG_KEY.verifier])


def test_note_bytes_must_be_utf8() -> None:
    assert verify_note(SIGNED.encode(), [LOG_KEY.verifier]).text == _BODY
    with pytest.raises(MalformedNoteError):
        verify_note(SIGNED.encode().replace(b"kluis", b"kl\xffis", 1), [LOG_KEY.verifier])


def test_sign_note_refuses_text_without_final_newline() -> None:
    with pytest.raises(MalformedNoteError):
        sign_note("no newline", [LOG_KEY])
    with pytest.raises(ValueError, match="at least one signer"):
        sign_note("text\n", [])


def test_signer_repr_does_not_show_the_private_key() -> None:
    assert repr(LOG_KEY) == f"NoteSigner('{ORIGIN}', key_id={LOG_KEY.key_id.hex()})"
