"""The README and the guides in docs/ link to each other by relative paths and heading anchors
(README, "Where to read next"); a moved file or a renamed heading must not leave a reader at a
dead link. Links in code blocks and inline code are examples, not links, and are skipped;
external links (http:, https:, mailto:) are not fetched (no network in tests)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])

FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1", re.DOTALL)
# [text](target) and ![alt](target), with an optional "title"; target without spaces
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$", re.MULTILINE)
HTML_ANCHOR = re.compile(r"""<a\s+(?:id|name)=["']([^"']+)["']""")
EXTERNAL = ("http://", "https://", "mailto:")


def _prose(text: str) -> str:
    return INLINE_CODE.sub("", FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation removed (letters,
    digits, '-', '_' and spaces kept), spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.replace("`", "").replace("*", "").lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in "-_ ")
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """Every anchor of a page; a repeated heading gets -1, -2, … as on GitHub."""
    text = page.read_text(encoding="utf-8")
    found: set[str] = set()
    seen: dict[str, int] = {}
    for heading in HEADING.findall(FENCE.sub("", text)):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    found.update(HTML_ANCHOR.findall(text))
    return found


def links(page: Path) -> list[str]:
    return LINK.findall(_prose(page.read_text(encoding="utf-8")))


def _broken(page: Path) -> list[str]:
    broken = []
    for target in links(page):
        if target.startswith(EXTERNAL):
            continue
        path_part, _, fragment = target.partition("#")
        resolved = (page.parent / unquote(path_part)).resolve() if path_part else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(resolved):
            broken.append(f"{target}: no heading with anchor #{fragment}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_and_anchors_resolve(page: Path) -> None:
    assert _broken(page) == []


def test_every_guide_is_linked_from_the_readme_or_another_guide() -> None:
    linked = set()
    for page in PAGES:
        for target in links(page):
            path_part = target.partition("#")[0]
            if path_part and not target.startswith(EXTERNAL):
                linked.add((page.parent / unquote(path_part)).resolve())
    guides = {p.resolve() for p in (ROOT / "docs").glob("*.md")}
    readme_map = {(ROOT / t.partition("#")[0]).resolve() for t in links(ROOT / "README.md")}
    assert guides - linked == set()
    assert {
        ROOT / "docs" / n for n in ("operators.md", "residents.md", "stewards.md", "api.md")
    } <= (readme_map)


def test_the_readme_starts_with_the_two_set_up_commands() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# Kluis"
    block = lines[lines.index("```sh") + 1 : lines.index("```")]
    assert lines.index("```sh") == 2
    assert [line.split()[:2] for line in block] == [["make", "run"], ["make", "test"]]


def test_slug_follows_github() -> None:
    assert slug("Issuing attestations to a wallet (OpenID4VCI)") == (
        "issuing-attestations-to-a-wallet-openid4vci"
    )
    assert slug("Voting on paper with a letter's code") == "voting-on-paper-with-a-letters-code"
    assert slug("`kluis wallet`: a command-line wallet") == "kluis-wallet-a-command-line-wallet"


def test_a_dead_link_and_a_dead_anchor_are_found(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("# Title\n\n## A section\n", encoding="utf-8")
    page = tmp_path / "a.md"
    page.write_text(
        "[ok](b.md#a-section) [gone](c.md) [typo](b.md#a-sectoin) `[code](x.md)`\n"
        "```\n[fenced](y.md)\n```\n[self](#nowhere) [web](https://example.org/x)\n",
        encoding="utf-8",
    )
    assert _broken(page) == [
        "c.md: no such file",
        "b.md#a-sectoin: no heading with anchor #a-sectoin",
        "#nowhere: no heading with anchor #nowhere",
    ]
