"""Signed checkpoints of the audit log: C2SP tlog-checkpoint bodies in C2SP signed notes.

A checkpoint (c2sp.org/tlog-checkpoint) is the note text::

    <origin>\\n<tree size in decimal>\\n<base64 root hash>\\n[<extension line>\\n ...]

A signed note (c2sp.org/signed-note) is that text, a blank line, and one or more lines
``— <key name> <base64(key ID || signature)>``. Kluis signs with Ed25519 (signature type
``0x01``); the key ID is ``SHA-256(key name || 0x0A || 0x01 || public key)[:4]`` and a verifier
key is written ``<name>+<hex key ID>+<base64(0x01 || public key)>``, the format of Go's
golang.org/x/mod/sumdb/note, so that Go witnesses and monitors can check Kluis checkpoints.

Verification follows the spec's rules: signatures by unknown keys are ignored, every signature
by a known key must verify (otherwise the whole note is rejected), and at least one must.
Base64 must be canonical (standard alphabet, padded, no stray bits).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import nacl.exceptions
import nacl.signing

__all__ = [
    "MAX_SIGNATURES",
    "Checkpoint",
    "InvalidKeyError",
    "InvalidSignatureError",
    "MalformedCheckpointError",
    "MalformedNoteError",
    "NoteError",
    "NoteSigner",
    "NoteVerifier",
    "UnexpectedOriginError",
    "UnverifiedNoteError",
    "VerifiedNote",
    "format_checkpoint",
    "key_id",
    "open_checkpoint",
    "parse_checkpoint",
    "sign_checkpoint",
    "sign_note",
    "verify_note",
]

#: signed-note §Signature types: Ed25519.
ED25519_TYPE = 0x01
#: signed-note §Format asks verifiers to accept at least 16; Go's reference stops at 100.
MAX_SIGNATURES = 100
_SIGNATURE_PREFIX = "— "  # em dash U+2014, space
_MAX_TREE_SIZE = 2**64 - 1
_ROOT_HASH_SIZE = 32
_TREE_SIZE_RE = re.compile(r"0|[1-9][0-9]*")
_KEY_ID_RE = re.compile(r"[0-9a-fA-F]{8}")


class NoteError(ValueError):
    """A signed note, checkpoint or note key is invalid."""


class MalformedNoteError(NoteError):
    """The note does not have the signed-note syntax."""


class MalformedCheckpointError(NoteError):
    """The note text is not a tlog-checkpoint body."""


class InvalidKeyError(NoteError):
    """A key name or verifier key string is invalid."""


class InvalidSignatureError(NoteError):
    """A signature by a known key does not verify; the whole note is rejected."""


class UnverifiedNoteError(NoteError):
    """No signature in the note is by a known key."""


class UnexpectedOriginError(NoteError):
    """The checkpoint is validly signed but names another log."""


@dataclass(frozen=True)
class Checkpoint:
    """tlog-checkpoint §Note text: origin, tree size, root hash, optional extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()


def format_checkpoint(checkpoint: Checkpoint) -> str:
    """The checkpoint's note text, ending in a newline (tlog-checkpoint §Note text)."""
    if not checkpoint.origin:
        raise MalformedCheckpointError("origin must not be empty")
    if not 0 <= checkpoint.size <= _MAX_TREE_SIZE:
        raise MalformedCheckpointError(f"tree size {checkpoint.size} is not a uint64")
    if len(checkpoint.root_hash) != _ROOT_HASH_SIZE:
        raise MalformedCheckpointError(
            f"root hash is {len(checkpoint.root_hash)} bytes, expected {_ROOT_HASH_SIZE}"
        )
    if any(not line for line in checkpoint.extensions):
        raise MalformedCheckpointError("extension lines must not be empty")
    lines = [
        checkpoint.origin,
        str(checkpoint.size),
        base64.b64encode(checkpoint.root_hash).decode("ascii"),
        *checkpoint.extensions,
    ]
    text = "".join(line + "\n" for line in lines)
    if len(text.split("\n")) != len(lines) + 1 or not _is_note_text(text):
        raise MalformedCheckpointError("checkpoint lines must not contain control characters")
    return text


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint's note text (tlog-checkpoint §Note text). Verify the note first."""
    if not text.endswith("\n") or not _is_note_text(text):
        raise MalformedCheckpointError("checkpoint must be newline-terminated text lines")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise MalformedCheckpointError("checkpoint needs origin, tree size and root hash lines")
    origin, size_line, root_line, *extensions = lines
    if not origin:
        raise MalformedCheckpointError("origin line is empty")
    if not _TREE_SIZE_RE.fullmatch(size_line):
        raise MalformedCheckpointError(
            f"tree size {size_line!r} is not a decimal without leading zeros"
        )
    size = int(size_line)
    if size > _MAX_TREE_SIZE:
        raise MalformedCheckpointError(f"tree size {size} is not a uint64")
    root_hash = _b64decode(root_line)
    if root_hash is None or len(root_hash) != _ROOT_HASH_SIZE:
        raise MalformedCheckpointError("root hash line is not a base64 32-byte hash")
    if any(not line for line in extensions):
        raise MalformedCheckpointError("extension lines must not be empty")
    return Checkpoint(origin, size, root_hash, tuple(extensions))


def key_id(name: str, public_key: bytes) -> bytes:
    """signed-note §Ed25519 signatures: ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``."""
    _check_key_name(name)
    if len(public_key) != 32:
        raise InvalidKeyError(f"Ed25519 public key is {len(public_key)} bytes, expected 32")
    material = name.encode("utf-8") + b"\n" + bytes([ED25519_TYPE]) + public_key
    return hashlib.sha256(material).digest()[:4]


@dataclass(frozen=True)
class NoteVerifier:
    """A known Ed25519 note key: the pair (name, key ID) identifies it in signature lines."""

    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        key_id(self.name, self.public_key)  # validates name and key length

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    @classmethod
    def from_string(cls, vkey: str) -> NoteVerifier:
        """Parse ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
        parts = vkey.split("+", 2)
        if len(parts) != 3:
            raise InvalidKeyError("verifier key must be <name>+<key id>+<base64 key>")
        name, hex_id, b64_key = parts
        _check_key_name(name)
        if not _KEY_ID_RE.fullmatch(hex_id):
            raise InvalidKeyError("verifier key ID must be 8 hexadecimal digits")
        raw = _b64decode(b64_key)
        if raw is None or len(raw) != 33 or raw[0] != ED25519_TYPE:
            raise InvalidKeyError("verifier key must be base64 of 0x01 and a 32-byte Ed25519 key")
        verifier = cls(name, raw[1:])
        if verifier.key_id != bytes.fromhex(hex_id):
            raise InvalidKeyError("verifier key ID does not match its name and public key")
        return verifier

    def to_string(self) -> str:
        """The verifier key string, ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
        b64_key = base64.b64encode(bytes([ED25519_TYPE]) + self.public_key).decode("ascii")
        return f"{self.name}+{self.key_id.hex()}+{b64_key}"

    def verify(self, message: bytes, signature: bytes) -> bool:
        """RFC 8032 Ed25519 verification of ``signature`` over ``message``."""
        if len(signature) != 64:
            return False
        try:
            nacl.signing.VerifyKey(self.public_key).verify(message, signature)
        except nacl.exceptions.BadSignatureError:
            return False
        return True


class NoteSigner:
    """An Ed25519 note signing key with its key name."""

    __slots__ = ("_key", "name", "verifier")

    def __init__(self, name: str, seed: bytes) -> None:
        if len(seed) != 32:
            raise InvalidKeyError(f"Ed25519 seed is {len(seed)} bytes, expected 32")
        self._key = nacl.signing.SigningKey(seed)
        self.name = name
        self.verifier = NoteVerifier(name, bytes(self._key.verify_key))

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        return cls(name, bytes(nacl.signing.SigningKey.generate()))

    @property
    def key_id(self) -> bytes:
        return self.verifier.key_id

    def sign(self, message: bytes) -> bytes:
        """The 64-byte RFC 8032 Ed25519 signature of ``message``."""
        return bytes(self._key.sign(message).signature)

    def __repr__(self) -> str:
        return f"NoteSigner({self.name!r}, key_id={self.key_id.hex()})"


@dataclass(frozen=True)
class VerifiedNote:
    """A note's text and the known keys whose signatures on it verified."""

    text: str
    verified_by: tuple[NoteVerifier, ...]


def sign_note(text: str, signers: Sequence[NoteSigner]) -> str:
    """signed-note §Format: ``text``, a blank line, one signature line per signer."""
    if not signers:
        raise ValueError("at least one signer is required")
    if not text.endswith("\n") or not _is_note_text(text):
        raise MalformedNoteError(
            "note text must be UTF-8 ending in a newline, without control characters"
        )
    message = text.encode("utf-8")
    lines = []
    for signer in signers:
        blob = signer.key_id + signer.sign(message)
        lines.append(f"{_SIGNATURE_PREFIX}{signer.name} {base64.b64encode(blob).decode('ascii')}\n")
    return text + "\n" + "".join(lines)


def verify_note(note: str | bytes, verifiers: Iterable[NoteVerifier]) -> VerifiedNote:
    """Open a signed note (signed-note §Format, §Signatures) against the known ``verifiers``.

    Raises :class:`MalformedNoteError` for bad syntax, :class:`InvalidSignatureError` when a
    known key's signature fails, :class:`UnverifiedNoteError` when no known key signed.
    """
    known = _index_verifiers(verifiers)
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedNoteError("note is not valid UTF-8") from None
    if not _is_note_text(note):
        raise MalformedNoteError("note contains control characters or is not valid UTF-8")
    split = note.rfind("\n\n")
    if split < 0:
        raise MalformedNoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise MalformedNoteError("note must end with a newline-terminated signature line")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"note has more than {MAX_SIGNATURES} signatures")
    message = text.encode("utf-8")
    verified: dict[tuple[str, bytes], NoteVerifier] = {}
    for line in lines:
        name, blob = _parse_signature_line(line)
        verifier = known.get((name, blob[:4]))
        if verifier is None:
            continue  # §Signatures: verifiers MUST ignore signatures from unknown keys
        if not verifier.verify(message, blob[4:]):
            raise InvalidSignatureError(
                f"signature by known key {name}+{blob[:4].hex()} does not verify"
            )
        verified[(name, blob[:4])] = verifier
    if not verified:
        raise UnverifiedNoteError("note has no valid signature by a known key")
    return VerifiedNote(text, tuple(verified.values()))


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[NoteSigner]) -> str:
    """The signed note of a checkpoint (tlog-checkpoint §Signatures)."""
    return sign_note(format_checkpoint(checkpoint), signers)


def open_checkpoint(
    note: str | bytes, verifiers: Iterable[NoteVerifier], *, origin: str
) -> Checkpoint:
    """Verify a signed checkpoint and parse it, requiring it to be from log ``origin``."""
    checkpoint = parse_checkpoint(verify_note(note, verifiers).text)
    if checkpoint.origin != origin:
        raise UnexpectedOriginError(
            f"checkpoint is for log {checkpoint.origin!r}, expected {origin!r}"
        )
    return checkpoint


def _parse_signature_line(line: str) -> tuple[str, bytes]:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise MalformedNoteError("signature line must start with an em dash and a space")
    name, _, b64 = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    if not _is_key_name(name):
        raise MalformedNoteError(f"signature line has an invalid key name {name!r}")
    blob = _b64decode(b64)
    if blob is None or len(blob) < 5:
        raise MalformedNoteError(f"signature by {name} is not base64 of a key ID and signature")
    return name, blob


def _index_verifiers(verifiers: Iterable[NoteVerifier]) -> dict[tuple[str, bytes], NoteVerifier]:
    known: dict[tuple[str, bytes], NoteVerifier] = {}
    for v in verifiers:
        ident = (v.name, v.key_id)
        if ident in known and known[ident] != v:
            # Only a tampered key list produces this; refuse to guess (as Go's note does).
            raise InvalidKeyError(f"two different known keys are named {v.name}+{v.key_id.hex()}")
        known[ident] = v
    return known


def _is_key_name(name: str) -> bool:
    # signed-note §Format: non-empty, no Unicode spaces, no plus; no control characters.
    return (
        bool(name)
        and "+" not in name
        and not any(c.isspace() or c < " " for c in name)
        and _is_utf8(name)
    )


def _check_key_name(name: str) -> None:
    if not _is_key_name(name):
        raise InvalidKeyError(f"key name {name!r} must be non-empty, without spaces or '+'")


def _is_note_text(text: str) -> bool:
    # signed-note §Format: valid UTF-8, no ASCII control characters other than newline.
    return _is_utf8(text) and not any(c < " " and c != "\n" for c in text)


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates
        return False
    return True


def _b64decode(value: str) -> bytes | None:
    """Standard padded base64 (RFC 4648 §4), canonical only; None when it is not."""
    try:
        raw = base64.b64decode(value.encode("ascii"), validate=True)
    except ValueError:
        return None
    if base64.b64encode(raw).decode("ascii") != value:
        return None
    return raw
