"""FastAPI's OpenTelemetry is kept where a process has it set up, and skipped (with its
per-request look-up of the global providers) where it would record nothing."""

from __future__ import annotations

import pytest

from service import middleware


def test_off_without_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FASTAPI_OTEL_AUTO_CONFIGURE", raising=False)
    assert middleware.fastapi_telemetry() == {"tracing": False, "metrics": False, "logs": False}


def test_fastapis_defaults_when_it_is_to_set_up_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FASTAPI_OTEL_AUTO_CONFIGURE", "true")
    assert middleware.fastapi_telemetry() is None


@pytest.mark.parametrize("getter", ["get_tracer_provider", "get_meter_provider"])
def test_fastapis_defaults_when_a_provider_is_set(
    monkeypatch: pytest.MonkeyPatch, getter: str
) -> None:
    class SdkProvider:
        pass

    monkeypatch.delenv("FASTAPI_OTEL_AUTO_CONFIGURE", raising=False)
    module = middleware.trace if getter == "get_tracer_provider" else middleware.metrics
    monkeypatch.setattr(module, getter, SdkProvider)
    assert middleware.fastapi_telemetry() is None
