"""Regressions of tests/e2e/test_schemathesis.py: a 422 always names a field, also when the body as a whole
is wrong (not an object, a record-level rule: "body") or the offending key is the empty string (`""`)."""

from __future__ import annotations

from typing import Any

import chargeschema
from chargepark import asgi
from chargepark.datahub import bodies
from chargepark.wbm.app import create_app
from fastapi import Request
from fastapi.testclient import TestClient
from pydantic import BaseModel, ConfigDict


class Switch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    on: bool


FIELDS = (chargeschema.Field("on", chargeschema.BOOL, False),)


def client() -> TestClient:
    app = asgi.make_app("test", "1")

    @app.put("/model")
    async def model(body: Switch) -> dict[str, Any]:
        return {"on": body.on}

    @app.put("/record")
    async def record(request: Request) -> dict[str, Any]:
        return bodies.validated(FIELDS, await bodies.json_object(request), {"on": False})

    @app.put("/rule")
    async def rule() -> None:
        raise bodies.refuse({".": "from must not be after to"})

    return TestClient(app)


def test_a_body_that_is_not_an_object_names_the_body() -> None:
    with client() as c:
        for path in ("/model", "/record"):
            r = c.put(path, json=[1, 2])
            assert r.status_code == 422 and r.json()["field"] == asgi.WHOLE_BODY, (path, r.text)


def test_an_empty_key_is_named_quoted() -> None:
    with client() as c:
        for path in ("/model", "/record"):
            r = c.put(path, json={"on": True, "": 1})
            assert r.status_code == 422 and r.json() == {"error": "unknown field", "field": '""'}, (
                path,
                r.text,
            )


def test_a_record_level_rule_names_the_body() -> None:
    with client() as c:
        r = c.put("/rule")
        assert r.status_code == 422 and r.json() == {"error": "from must not be after to", "field": "body"}


def test_the_wbm_names_the_body_for_a_record_level_refusal() -> None:
    handler = create_app().exception_handlers[chargeschema.Invalid]
    response = handler(None, chargeschema.Invalid({".": "ap_dhcp_from must not be after ap_dhcp_to"}))
    assert b'"field":"body"' in response.body
