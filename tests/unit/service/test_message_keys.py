"""Every message key a page names literally is in the catalogue, in Dutch and in English: a
key that is missing shows on the page as the key itself (`consent.export` did, after the
catalogue moved)."""

from __future__ import annotations

import re
from pathlib import Path

from core import i18n
from service.app import create_app_from_runtime  # noqa: F401 (imports every router: all texts)

ROOT = Path(__file__).resolve().parents[3]
# t("key"), t('key'), t("key", …) and message_key/title/body literals passed to pages
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_][a-z0-9_]*(?:\.[a-z0-9_\-]+)+)["']""")


def template_keys() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in ROOT.glob("*/templates/**/*.html"):
        for key in LITERAL_KEY.findall(path.read_text()):
            found.setdefault(key, set()).add(str(path.relative_to(ROOT)))
    return found


def test_the_scan_finds_the_pages_keys() -> None:
    keys = template_keys()
    assert len(keys) > 150  # guards the check below against passing on nothing
    assert "accounts.account.title" in keys


def test_every_literal_key_of_a_page_is_in_the_catalogue_in_both_languages() -> None:
    missing = {
        key: sorted(paths)
        for key, paths in template_keys().items()
        if not i18n.languages_of(key) >= {"nl", "en"}
    }
    assert missing == {}
