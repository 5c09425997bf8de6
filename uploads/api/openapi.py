"""The OpenAPI schema says what ninja's types cannot: each operation's error codes, by status,
`Retry-After` where it is sent, the CSRF header a session needs on writes, and the links from a
created upload to the operations on it (what a client, or schemathesis' stateful phase, follows).

`document(schema, api)` rewrites the schema ninja built (project/api.py calls it). The codes
come from uploads/api/answers.py: the service errors each operation declares with `@raises`, and
the edge's answers that apply to it, read from the operation itself (its method, body, throttle).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ninja import NinjaAPI
from ninja.operation import Operation

from . import answers
from .answers import Answer
from .schemas import ErrorOut

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_SCHEME = "CsrfToken"
SESSION_SCHEME = "SessionAuth"
RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer", "minimum": 0},
}


def operations(api: NinjaAPI) -> Iterator[tuple[str, str, Operation]]:
    """(operationId, method, operation) of every operation in the schema."""
    for bound_router in api._get_bound_routers():  # as ninja's own schema builder walks them
        for path_view in bound_router.path_operations.values():
            for operation in path_view.operations:
                if not operation.include_in_schema:
                    continue
                op_id = operation.operation_id or api.get_openapi_operation_id(operation)
                for method in operation.methods:
                    yield op_id, method, operation


def edge_answers(method: str, operation: Operation) -> list[Answer]:
    """What project/api.py can answer for this operation, whatever its services do."""
    found = [answers.NOT_AUTHENTICATED, answers.INTERNAL_ERROR, answers.DATABASE_UNAVAILABLE]
    sources = {model.__ninja_param_source__ for model in operation.models}
    if method not in SAFE_METHODS:
        found.append(answers.CSRF_FAILED)
    if method == "POST":  # a body Django refuses to read (DATA_UPLOAD_MAX_MEMORY_SIZE)
        found.append(answers.REQUEST_TOO_LARGE)
    if "body" in sources:
        found.append(answers.BAD_REQUEST)  # ninja's answer to a body that is not JSON
    if sources:  # a path's id too: a malformed one is refused by its type, not its URL pattern
        found.append(answers.VALIDATION_ERROR)
    if operation.throttle_objects:
        found.append(answers.THROTTLED)
    return found


def answers_of(method: str, operation: Operation) -> dict[int, list[Answer]]:
    """Every error answer of the operation, by status, each code once."""
    by_status: dict[int, list[Answer]] = {}
    for answer in [*answers.service_answers(operation.view_func), *edge_answers(method, operation)]:
        group = by_status.setdefault(answer.status, [])
        same = next((known for known in group if known.code == answer.code), None)
        if same is None:
            group.append(answer)
        elif answer.retry_after and not same.retry_after:
            group[group.index(same)] = answer  # either way a client may meet the header
    return dict(sorted(by_status.items()))


def error_response(group: list[Answer]) -> dict[str, Any]:
    codes = [answer.code for answer in group]
    body = ErrorOut.model_json_schema()
    body["properties"]["code"]["enum"] = codes
    response: dict[str, Any] = {
        "description": " ".join(f"`{answer.code}`: {answer.detail}" for answer in group),
        "content": {"application/json": {"schema": body}},
    }
    if any(answer.retry_after for answer in group):
        # Required only when every code of the status sends it (too_many_pending does not).
        required = all(answer.retry_after for answer in group)
        response["headers"] = {"Retry-After": {**RETRY_AFTER, "required": required}}
    return response


def document(schema: dict[str, Any], api: NinjaAPI) -> dict[str, Any]:
    by_id = {(op_id, method.lower()): operation for op_id, method, operation in operations(api)}
    for path, methods in schema["paths"].items():
        for method, details in methods.items():
            operation = by_id[(details["operationId"], method)]
            details["responses"] = {str(status): answer for status, answer in details["responses"].items()}
            for status, group in answers_of(method.upper(), operation).items():
                details["responses"][str(status)] = error_response(group)
            if method.upper() not in SAFE_METHODS:
                details["security"] = _with_csrf(details.get("security", []))
        _link_created(schema, path)
    _describe_csrf(schema)
    return schema


def _with_csrf(security: list[dict]) -> list[dict]:
    """A session writes with the CSRF header too (both of one requirement); a token needs none."""
    return [{**scheme, CSRF_SCHEME: []} if SESSION_SCHEME in scheme else scheme for scheme in security]


def _describe_csrf(schema: dict[str, Any]) -> None:
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    if SESSION_SCHEME not in schemes:
        return
    schemes[SESSION_SCHEME]["description"] = (
        "The browser's signed-in session; POST and DELETE also need the X-CSRFToken header."
    )
    schemes[CSRF_SCHEME] = {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRFToken",
        "description": "The csrftoken cookie's value, with a session on POST and DELETE "
        "(a bearer token needs none): else 403 csrf_failed.",
    }


def _link_created(schema: dict[str, Any], path: str) -> None:
    """A 201 on a collection links its `id` to every operation on one of its items."""
    created = schema["paths"][path].get("post", {}).get("responses", {}).get("201")
    if created is None:
        return
    item = f"{path}/{{upload_id}}"
    links = {}
    for other, methods in schema["paths"].items():
        if other == item or other.startswith(item + "/"):
            for details in methods.values():
                links[details["operationId"]] = {
                    "operationId": details["operationId"],
                    "parameters": {"upload_id": "$response.body#/id"},
                }
    if links:
        created["links"] = links
