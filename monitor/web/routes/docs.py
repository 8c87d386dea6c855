"""API documentation at /docs, rendered here from the OpenAPI schema.

FastAPI's Swagger UI loads its script and styles from a CDN, which this app's Content-Security-Policy (and
offline use) rule out; the machine-readable schema stays at /openapi.json for tools.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from monitor.web.deps import Context

router = APIRouter(include_in_schema=False)
_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    parameters: list[dict[str, Any]]
    body: str | None
    response: str | None


def _schema_name(content: dict[str, Any] | None) -> str | None:
    """The model name of a request or response body (`Page[MatchOut]`, `array of WatchTermOut`)."""
    for media in (content or {}).values():
        schema = media.get("schema", {})
        if "$ref" in schema:
            return str(schema["$ref"]).rsplit("/", 1)[-1]
        if schema.get("type") == "array" and "$ref" in schema.get("items", {}):
            return "array of " + str(schema["items"]["$ref"]).rsplit("/", 1)[-1]
        if schema:
            return str(schema.get("title") or schema.get("type") or "")
    return None


def operations(openapi: dict[str, Any]) -> list[Operation]:
    found = []
    for path, item in openapi.get("paths", {}).items():
        for method in _METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            responses = operation.get("responses", {})
            success: dict[str, Any] = next((r for code, r in responses.items() if code.startswith("2")), {})
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    summary=operation.get("summary", ""),
                    description=operation.get("description", ""),
                    parameters=operation.get("parameters", []),
                    body=_schema_name(operation.get("requestBody", {}).get("content")),
                    response=_schema_name(success.get("content")),
                )
            )
    return found


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request, context: Context) -> HTMLResponse:
    schema = request.app.openapi()
    return context.render(
        request,
        "docs.html",
        {"operations": operations(schema), "schemas": schema.get("components", {}).get("schemas", {})},
    )
