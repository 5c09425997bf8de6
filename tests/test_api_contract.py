"""The OpenAPI schema is the API's contract (uploads/api/openapi.py): each operation names every
error code it can answer, by status, with Retry-After where it is sent, the bounds the services
enforce, the CSRF header of session writes and the links from a created upload. The README's API
table agrees with it. (tests/helpers.assert_error checks each error a test meets is documented.)"""

import re
import uuid

import pytest

from tests.helpers import ROOT, assert_error, openapi_schema
from uploads.api import answers
from uploads.api.openapi import SAFE_METHODS, operations
from uploads.s3.limits import MAX_PARTS

README = (ROOT / "README.md").read_text()


def schema_operations(schema: dict) -> dict[tuple[str, str], dict]:
    return {
        (method.upper(), path): details
        for path, methods in schema["paths"].items()
        for method, details in methods.items()
    }


def documented(details: dict) -> dict[int, list[str]]:
    return {
        int(status): answer["content"]["application/json"]["schema"]["properties"]["code"]["enum"]
        for status, answer in details["responses"].items()
        if int(status) >= 400
    }


def ninja_operations() -> dict[str, object]:
    from project.api import api

    return {op_id: operation for op_id, _method, operation in operations(api)}


def test_every_operation_documents_each_error_code_it_can_answer():
    views = ninja_operations()
    for (method, path), details in schema_operations(openapi_schema()).items():
        codes = documented(details)
        view = views[details["operationId"]].view_func
        declared = list(answers.service_answers(view))
        assert declared, f"{method} {path} declares no errors (@raises)"
        missing = [(a.status, a.code) for a in declared if a.code not in codes.get(a.status, [])]
        assert missing == [], f"{method} {path}"
        assert answers.NOT_AUTHENTICATED.code in codes[401]
        assert answers.INTERNAL_ERROR.code in codes[500]


def test_a_declared_error_brings_the_codes_of_its_subclasses():
    @answers.raises(answers.errors.ObjectInvalid)
    def view(request): ...

    codes = {answer.code for answer in answers.service_answers(view)}

    assert {cls.code for cls in answers.errors.ObjectInvalid.__subclasses__()} <= codes


def test_every_error_answer_has_the_detail_and_code_shape():
    for details in schema_operations(openapi_schema()).values():
        for status, answer in details["responses"].items():
            if int(status) >= 400:
                body = answer["content"]["application/json"]["schema"]
                assert body["required"] == ["detail", "code"]


def test_retry_after_is_declared_on_429_and_503():
    for key, details in schema_operations(openapi_schema()).items():
        for status in ("429", "503"):
            if status in details["responses"]:
                assert "Retry-After" in details["responses"][status]["headers"], key
        assert details["responses"]["503"]["headers"]["Retry-After"]["required"] is True, key


def test_retry_after_is_optional_where_a_429_code_sends_none():
    # too_many_pending waits for the user to finish uploads, not for a time.
    details = schema_operations(openapi_schema())[("POST", "/api/uploads")]

    assert details["responses"]["429"]["headers"]["Retry-After"]["required"] is False


@pytest.mark.parametrize("path", ["/api/uploads/{upload_id}/parts", "/api/uploads/{upload_id}/sign"])
def test_parts_and_sign_declare_the_400_of_a_body_that_is_not_json(path):
    details = schema_operations(openapi_schema())[("POST", path)]

    assert documented(details)[400] == [answers.BAD_REQUEST.code]


@pytest.mark.parametrize("operation", ["parts", "sign"])
def test_parts_and_sign_answer_400_to_a_body_that_is_not_json(s3, api, operation):
    response = api.post(f"/api/uploads/{uuid.uuid4()}/{operation}", "{nope", content_type="application/json")

    assert_error(response, 400, "bad_request")  # which assert_error checks the schema documents


def test_the_schema_states_the_bounds_the_server_enforces():
    components = openapi_schema()["components"]["schemas"]

    assert components["UploadIn"]["properties"]["size"]["minimum"] == 1
    part_numbers = components["PartNumbersIn"]["properties"]["part_numbers"]["items"]
    assert (part_numbers["minimum"], part_numbers["maximum"]) == (1, MAX_PARTS)
    part_number = components["SignIn"]["properties"]["partNumber"]
    assert (part_number["minimum"], part_number["maximum"]) == (1, MAX_PARTS)


def test_the_expiration_bound_follows_the_setting(settings):
    from project.api import api

    settings.UPLOADS_URL_MAX_EXPIRATION = 1234
    details = schema_operations(api.get_openapi_schema())[("GET", "/api/uploads/{upload_id}/url")]
    expiration = next(p for p in details["parameters"] if p["name"] == "expiration")["schema"]

    assert (expiration["minimum"], expiration["maximum"]) == (1, 1234)


def test_session_writes_need_the_csrf_header_and_token_calls_do_not():
    schema = openapi_schema()
    assert schema["components"]["securitySchemes"]["CsrfToken"]["name"] == "X-CSRFToken"
    for (method, path), details in schema_operations(schema).items():
        session = next(req for req in details["security"] if "SessionAuth" in req)
        assert ("CsrfToken" in session) == (method not in SAFE_METHODS), f"{method} {path}"
        assert {"TokenAuth": []} in details["security"]


def test_a_created_upload_links_to_every_operation_on_it():
    schema = openapi_schema()
    links = schema["paths"]["/api/uploads"]["post"]["responses"]["201"]["links"]
    on_one = {
        details["operationId"]
        for path, methods in schema["paths"].items()
        if path.startswith("/api/uploads/{upload_id}")
        for details in methods.values()
    }

    assert {link["operationId"] for link in links.values()} == on_one
    assert {link["parameters"]["upload_id"] for link in links.values()} == {"$response.body#/id"}


@pytest.mark.parametrize("path", sorted(openapi_schema()["paths"]))
def test_a_method_the_schema_lacks_answers_405_with_the_documented_methods_in_allow(s3, api, path):
    documented_methods = {method.upper() for method in openapi_schema()["paths"][path]}
    unused = next(m for m in ("PUT", "PATCH", "DELETE", "POST") if m not in documented_methods)

    response = api.generic(unused, path.replace("{upload_id}", str(uuid.uuid4())))

    assert_error(response, 405, answers.METHOD_NOT_ALLOWED.code)
    assert {m.strip() for m in response["Allow"].split(",")} == documented_methods


# --- The README's API table -------------------------------------------------------------------


def readme_table() -> dict[tuple[str, str], dict[int, list[str]]]:
    """{(method, path): {status: codes}} from the Errors column of the README's API table."""
    section = README[README.index("## The JSON API") :]
    section = section[: section.index("\n## ")]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        first = re.match(r"`(GET|POST|DELETE|PUT|PATCH) ([^`?]+)", cells[0]) if len(cells) == 3 else None
        if first is None:
            continue
        errors: dict[int, list[str]] = {}
        status = None
        for token in re.findall(r"`([^`]+)`", cells[2]):
            if match := re.fullmatch(r"(\d{3}) (\w+)", token):
                status = int(match.group(1))
                errors.setdefault(status, []).append(match.group(2))
            elif re.fullmatch(r"[a-z_]+", token) and status is not None:
                errors[status].append(token)
        rows[(first.group(1), first.group(2).replace("{id}", "{upload_id}").strip())] = errors
    return rows


EDGE_CODES = {value.code for value in vars(answers).values() if isinstance(value, answers.Answer)}


def test_the_readme_api_table_lists_the_schemas_operations():
    assert set(readme_table()) == set(schema_operations(openapi_schema()))


def test_the_readme_api_table_lists_each_operations_own_error_codes_by_status():
    table = readme_table()
    for key, details in schema_operations(openapi_schema()).items():
        own = {
            status: sorted(code for code in codes if code not in EDGE_CODES)
            for status, codes in documented(details).items()
        }
        own = {status: codes for status, codes in own.items() if codes}
        listed = {status: sorted(codes) for status, codes in table[key].items()}
        assert listed == own, f"README's row for {key[0]} {key[1]}"


def test_the_readme_lists_every_code_the_edge_answers():
    after_table = README[README.index("Every error has one shape") :]
    after_table = after_table[: after_table.index("\n\n")]

    for code in EDGE_CODES:
        assert f"{code}`" in after_table, code
