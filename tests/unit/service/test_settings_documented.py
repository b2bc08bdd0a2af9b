"""Every setting is documented for operators (docs/operators.md, "Configuration" and the
sections it points to): a setting nobody can find is a setting nobody sets right."""

from __future__ import annotations

import re
from pathlib import Path

from service.settings import Settings

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "operators.md"


def test_every_kluis_setting_is_named_in_the_operators_guide() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    named = set(re.findall(r"KLUIS_[A-Z0-9_]+", text))
    settings = {f"KLUIS_{name.upper()}" for name in Settings.model_fields}
    assert settings - named == set()
