"""The verification widget's platform-facing endpoints are in the service's OpenAPI document
(#16: the API reference is the service's own OpenAPI), with the query parameters they read
themselves and the media types they answer with."""

from __future__ import annotations

from fastapi.testclient import TestClient

WIDGET = {
    "/widget/kluis-verify.js": "text/javascript",
    "/widget/kluis-verify.css": "text/css",
    "/widget/sessions/{session_id}": "application/json",
    "/widget/sessions/{session_id}/events": "text/event-stream",
    "/verify/{session_id}": "text/html",
}


def test_the_widget_endpoints_are_in_the_openapi_document(client: TestClient) -> None:
    document = client.get("/api/openapi.json").json()
    for path, media_type in WIDGET.items():
        operation = document["paths"][path]["get"]
        assert operation["tags"] == ["verification widget"], path
        assert operation["description"], path
        assert list(operation["responses"]["200"]["content"]) == [media_type], path
    status = document["paths"]["/widget/sessions/{session_id}"]["get"]
    query = {p["name"]: p["required"] for p in status["parameters"] if p["in"] == "query"}
    assert query == {"token": True, "wait": False}
    assert not any(path.startswith("/console") for path in document["paths"])
