"""Reading back what fpdf2 wrote, without a PDF library: the pages in order (the Kids of the
page tree) and the text-showing strings of each page's content stream (FlateDecode)."""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj\s*<<(.*?)>>\s*(stream\r?\n)?", re.S)
_LENGTH = re.compile(rb"/Length (\d+)")
_SHOWN = re.compile(rb"\(((?:[^()\\]|\\.)*)\) Tj")


def _objects(pdf: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Each object's dictionary and stream. A stream is cut by its /Length, never by looking
    for the end marker: compressed bytes may end in a carriage return or hold any text."""
    found: dict[int, tuple[bytes, bytes | None]] = {}
    for m in _OBJECT.finditer(pdf):
        stream = None
        if m[3]:
            length = int(_match(_LENGTH.pattern, m[2])[1])
            stream = pdf[m.end() : m.end() + length]
        found[int(m[1])] = (m[2], stream)
    return found


def _match(pattern: bytes, data: bytes) -> re.Match[bytes]:
    found = re.search(pattern, data, re.S)
    assert found is not None, pattern
    return found


def page_texts(pdf: bytes) -> list[str]:
    """Per page, in order, the strings it shows, joined by newlines."""
    objects = _objects(pdf)
    [tree] = [d for d, _ in objects.values() if b"/Type /Pages" in d]
    kids = [int(k) for k in re.findall(rb"(\d+) 0 R", _match(rb"/Kids \[(.*?)\]", tree)[1])]
    texts = []
    for kid in kids:
        info, stream = objects[int(_match(rb"/Contents (\d+) 0 R", objects[kid][0])[1])]
        assert stream is not None
        data = zlib.decompress(stream) if b"/FlateDecode" in info else stream
        shown = [s.replace(rb"\(", b"(").replace(rb"\)", b")") for s in _SHOWN.findall(data)]
        texts.append("\n".join(s.decode("latin-1") for s in shown))
    return texts
