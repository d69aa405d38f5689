"""Bad input against a real `chargepark run --sim 2`: schemathesis walks every operation of both committed
OpenAPI documents (docs/openapi/jupicore.json, docs/openapi/wbm.json) with a bounded number of valid and
invalid requests each; the WBM ones as a manufacturer (factory password changed, CSRF header sent) so they
reach the routes. No 5xx, no dropped connection; every refusal is a 4xx with the JSON body
`{"error": reason, "field": name}` (a 422 names its field), and a refused write stores nothing. Malformed
JSON and oversized bodies (Content-Length and chunked) go to every write operation of both documents."""

from __future__ import annotations

import json
import signal
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from chargepark.asgi import MAX_BODY
from chargepark.auth.guard import CSRF_HEADER
from hypothesis import HealthCheck, settings

from tests.e2e.test_head_sim import run_sim, sim_runtime, until
from tests.host.wbmkit import change_factory_password, log_in

DOCS = Path(__file__).resolve().parents[2] / "docs" / "openapi"
EXAMPLES = 15  # per operation, valid and invalid mixed: ~120 operations in about two minutes
# The fuzzing phase only: the coverage phase's systematic cases are ~700 for one wide record (minutes).
CONFIG = schemathesis.config.SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
POINTS = ("CPSIM0001", "CPSIM0002")
# Path parameters that name a point: most cases use a real one so the routes get past their 404.
POINT_PARAMS = ("uid", "key", "source")
WRITES = ("POST", "PUT", "PATCH", "DELETE")

# The OCPP CA upload's body is a PEM text: sent as text/plain is.
schemathesis.serializer.alias("application/x-pem-file", "text/plain")

jupicore = schemathesis.openapi.from_path(DOCS / "jupicore.json", config=CONFIG)
wbm = schemathesis.openapi.from_path(DOCS / "wbm.json", config=CONFIG).exclude(
    # Never answers (server-sent events), ends the session under test, sets the machine's clock; and the
    # operations whose success takes the server under test away (every service restarted, the head made a
    # client, its own ports or system area replaced): their refusals are checked by the body test below and
    # their behaviour by tests/host/test_wbm_system.py.
    operation_id=[
        "live_events",
        "auth_logout",
        "time_set",
        "system_reboot",
        "module_switch",
        "services_restart",
        "calibration_law_on",
        "software_install",
        "config_system_write",
        "config_system_import",
        "config_system_delete",
        "backup_system_import",
        "config_import_all",
    ]
)


def _json(client: httpx.Client, path: str) -> Any:
    try:
        return client.get(path).json()
    except httpx.TransportError as e:  # still starting
        raise OSError(str(e)) from e


@dataclass
class Head:
    rest: str
    web: str
    auth: dict[str, str]  # the manufacturer's cookie and CSRF header


@pytest.fixture(scope="module")
def head(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Head]:
    data = tmp_path_factory.mktemp("schemathesis") / "data"
    proc = run_sim(data, 2)
    try:
        rt = sim_runtime(data)
        rest, web = "http://127.0.0.1:%d" % rt["rest_port"], "http://127.0.0.1:%d" % rt["web_port"]
        with httpx.Client(base_url=web, timeout=10) as c:
            until("both points on the dashboard", lambda: len(_json(c, "/api/park")["points"]) == 2, 90)
            change_factory_password(c, "manufacturer")
            token = log_in(c, "manufacturer")["csrf_token"]
            auth = {"Cookie": "; ".join("%s=%s" % kv for kv in c.cookies.items()), CSRF_HEADER: token}
        with httpx.Client(base_url=rest, timeout=10) as c:
            until("both points on JupiCore", lambda: len(_json(c, "/api/v1.0/charging-points")) == 2, 60)
        yield Head(rest, web, auth)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert proc.returncode == 0


def _on_real_points(case: schemathesis.Case) -> None:
    params = case.path_parameters or {}
    for name in POINT_PARAMS:
        value = params.get(name)
        pick = zlib.crc32(repr((value, case.body, case.query)).encode()) % 4
        if value is not None and pick < 3:
            params[name] = POINTS[pick % 2]


def _stored(head: Head) -> Any:
    """Every area of the store, as the WBM exports it, but `module`: the controller agent records there
    what the modules report on the bus (identity, meter, board firmware) whenever they do, never a request."""
    r = httpx.get(head.web + "/api/wbm/config", headers=head.auth, timeout=10)
    assert r.status_code == 200, r.text
    return {area: record for area, record in r.json()["areas"].items() if area != "module"}


def _refusal_shape(response: Any) -> None:
    """A 4xx, or the documented 504 of a module that is offline or did not confirm (a restarted one
    reboots), carries the refusal body; any other 5xx fails."""
    status = response.status_code
    assert status < 500 or status == 504, (status, response.content)
    if status < 400:
        return
    body = json.loads(response.content)
    assert isinstance(body, dict) and {"error", "field"} <= set(body), (status, body)
    assert isinstance(body["error"], str) and body["error"], (status, body)
    assert isinstance(body["field"], str), (status, body)
    if status == 422:
        assert body["field"], "a 422 names its field: %r" % body


def _run(case: schemathesis.Case, base: str, head: Head, headers: dict[str, str]) -> None:
    _on_real_points(case)
    write = case.method.upper() in WRITES
    before = _stored(head) if write else None
    response = case.call(base_url=base, headers=headers, timeout=15)
    _refusal_shape(response)
    if write and 400 <= response.status_code < 500:  # (a 504 is stored and delivered once the module is back)
        assert _stored(head) == before, "a refused %s %s changed the store" % (case.method, case.path)


SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases every run: a failure here is reproducible
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.slow
@jupicore.parametrize()
@SETTINGS
def test_jupicore_rest_refuses_bad_input_cleanly(case: schemathesis.Case, head: Head) -> None:
    _run(case, head.rest, head, {})


@pytest.mark.slow
@wbm.parametrize()
@SETTINGS
def test_wbm_api_refuses_bad_input_cleanly(case: schemathesis.Case, head: Head) -> None:
    _run(case, head.web, head, head.auth)


def _write_operations() -> list[tuple[str, str, str]]:
    found = []
    for doc, app in (("jupicore.json", "rest"), ("wbm.json", "web")):
        for path, ops in json.loads((DOCS / doc).read_text())["paths"].items():
            for method, op in ops.items():
                if method.upper() in WRITES and "requestBody" in op and op["operationId"] != "auth_logout":
                    json_body = "application/json" in op["requestBody"]["content"]
                    found.append((app, method.upper(), path, json_body))
    return found


def _concrete(path: str) -> str:
    for name in POINT_PARAMS:
        path = path.replace("{%s}" % name, POINTS[0])
    return path.replace("{tag}", "04AABBCCDD").replace("{name}", "jupicore")


@pytest.mark.slow
@pytest.mark.parametrize(("app", "method", "path", "json_body"), _write_operations())
def test_every_write_refuses_malformed_and_oversized_bodies(
    head: Head, app: str, method: str, path: str, json_body: bool
) -> None:
    base = getattr(head, app)
    url = base + _concrete(path)
    headers = dict(head.auth, **{"content-type": "application/json"})
    before = _stored(head)
    huge = b'{"name": "' + b"x" * (MAX_BODY + 1) + b'"}'

    def chunked() -> Iterator[bytes]:
        for i in range(0, len(huge), 8192):
            yield huge[i : i + 8192]

    cases = {
        "oversized": (httpx.Request(method, url, headers=headers, content=huge), 413),
        "oversized, chunked": (httpx.Request(method, url, headers=headers, content=chunked()), 413),
    }
    if json_body:  # a CSV or a bundle upload has its own malformed-content tests (its host tests)
        cases["malformed JSON"] = (httpx.Request(method, url, headers=headers, content=b'{"name": '), 400)
    with httpx.Client(timeout=15) as c:
        for what, (request, status) in cases.items():
            r = c.send(request)
            assert r.status_code == status, (what, r.status_code, r.text)
            _refusal_shape(r)
    assert _stored(head) == before
