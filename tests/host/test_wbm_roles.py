"""The role matrix decides every WBM route: every operation of the generated OpenAPI document, walked with
every role and with a missing, an expired and a forged session, over a real server."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from chargepark.auth.guard import CSRF_HEADER
from chargepark.auth.matrix import AREA_WRITERS, AREAS_NOT_EDITED, ROLE_MATRIX, WHILE_PASSWORD_CHANGE_REQUIRED
from chargepark.auth.roles import LOGINS, Role
from chargepark.config.areas import AREAS
from chargepark.wbm.app import create_app
from chargepark.wbm.openapi import document

from tests.host.wbmkit import change_factory_password, log_in, make_ctx, served

SAMPLES = {"uid": "CPSIM0001", "key": "CPSIM0001", "source": "CPSIM0002", "name": "jupicore"}
DENIED = (401, 403)


def operations() -> list[tuple[str, str, str, bool]]:
    """(method, path with samples, operation id, has a body) of every operation in the document."""
    out = []
    for path, item in document()["paths"].items():
        for method, op in item.items():
            filled = re.sub(r"\{(\w+)\}", lambda m: SAMPLES[m.group(1)], path)
            out.append((method.upper(), filled, op["operationId"], "requestBody" in op))
    return out


def test_the_matrix_names_every_operation_and_nothing_else() -> None:
    ids = [op for _, _, op, _ in operations()]
    assert len(ids) == len(set(ids)), "operation ids must be unique"
    assert set(ids) - set(ROLE_MATRIX) == set(), "routes the role matrix does not name"
    assert set(ROLE_MATRIX) - set(ids) == set(), "matrix entries without a route"
    assert set(AREA_WRITERS) | set(AREAS_NOT_EDITED) == set(AREAS)
    assert not set(AREA_WRITERS) & set(AREAS_NOT_EDITED)


def test_manual_rights_in_the_matrix() -> None:
    # Table 5-4 and "User roles": releases and whitelists are User; network, backend, load management are
    # Operator; enforcing unlocking and operating a point are Manufacturer only.
    assert ROLE_MATRIX["point_release"] is Role.USER
    assert ROLE_MATRIX["config_whitelist_write"] is Role.USER
    assert ROLE_MATRIX["logs_download"] is Role.USER
    for area in ("network", "ocpp", "loadcircuit"):
        assert ROLE_MATRIX["config_%s_write" % area] is Role.OPERATOR
    for op in ("point_enforce_unlock", "point_enable", "point_reset_error", "config_chargepoint_write"):
        assert ROLE_MATRIX[op] is Role.MANUFACTURER
    assert {op for op, r in ROLE_MATRIX.items() if r is Role.GUEST} == {
        "dashboard_page", "dashboard_summary", "auth_session", "auth_login"}  # fmt: skip


class _Unclosed(httpx.Client):
    """A role's shared session client: the walk's close() leaves it open."""

    def __init__(self, inner: httpx.Client) -> None:
        self.__dict__.update(inner.__dict__)

    def close(self) -> None:
        pass


def _send(client: httpx.Client, method: str, path: str, op: str, body: bool) -> int:
    if op == "live_events":  # an endless stream: the status line is the answer
        with client.stream(method, path) as r:
            return r.status_code
    if op == "auth_login":
        return client.request(
            method, path, json={"login": "user", "password": "user-secret-2030"}
        ).status_code
    return client.request(method, path, json={} if body else None).status_code


@pytest.mark.slow
def test_every_operation_with_every_role_and_bad_sessions(tmp_path: Path) -> None:
    clock = [1_000.0]
    ctx = make_ctx(tmp_path, clock=lambda: clock[0])
    with served(create_app(ctx)) as base:
        for login in LOGINS:
            with httpx.Client(base_url=base, timeout=30) as c:
                change_factory_password(c, login.name)
        results: dict[str, dict[str, int]] = {}

        def walk(who: str, client_for: Any) -> None:
            for method, path, op, body in operations():
                client = client_for(op)
                try:
                    results.setdefault(op, {})[who] = _send(client, method, path, op, body)
                finally:
                    client.close()

        def guest(op: str) -> httpx.Client:
            return httpx.Client(base_url=base, timeout=30)

        def forged(op: str) -> httpx.Client:
            c = httpx.Client(base_url=base, timeout=30, cookies={"chargepark_session": "forged-" + "x" * 40})
            c.headers[CSRF_HEADER] = "forged"
            return c

        def expired(op: str) -> httpx.Client:
            c = httpx.Client(base_url=base, timeout=30)
            log_in(c, "manufacturer")
            clock[0] += ctx.accounts.idle_s + 1
            return c

        def role(name: str) -> Any:
            kept = httpx.Client(base_url=base, timeout=30)
            log_in(kept, name)

            def make(op: str) -> httpx.Client:
                if op not in ("auth_login", "auth_logout", "auth_change_password"):
                    return _Unclosed(kept)
                c = httpx.Client(base_url=base, timeout=30)
                log_in(c, name)  # a session of its own: these replace or end sessions
                return c

            return make

        walk("guest", guest)
        walk("forged", forged)
        walk("expired", expired)
        for login in LOGINS:
            walk(login.name, role(login.name))

    problems = []
    for op, seen in results.items():
        need = ROLE_MATRIX[op]
        for who, status in seen.items():
            rank = next((lg.role for lg in LOGINS if lg.name == who), Role.GUEST)
            allowed = rank >= need
            if allowed and status in DENIED:
                problems.append("%s as %s: %d, the matrix allows %s" % (op, who, status, need.name))
            if not allowed and status not in DENIED:
                problems.append("%s as %s: %d, the matrix needs %s" % (op, who, status, need.name))
            if status >= 500:
                problems.append("%s as %s: %d" % (op, who, status))
    assert problems == []
    assert len(results) == len(ROLE_MATRIX)


@pytest.mark.slow
def test_a_factory_password_allows_only_the_change_and_csrf_guards_every_write(tmp_path: Path) -> None:
    ctx = make_ctx(tmp_path)
    with served(create_app(ctx)) as base:
        with httpx.Client(base_url=base, timeout=30) as c:
            body = log_in(c, "manufacturer", "manufacturer")
            assert body["password_change_required"] is True and "password change required" in body["detail"]
            for method, path, op, has_body in operations():
                if op in WHILE_PASSWORD_CHANGE_REQUIRED or ROLE_MATRIX[op] is Role.GUEST:
                    continue
                assert _send(c, method, path, op, has_body) == 403, op
            r = c.get("/api/wbm/park")
            assert r.json() == {"error": "password change required", "field": "new_password"}
            assert c.get("/api/wbm/auth/session").json()["password_change_required"] is True
            assert c.post("/api/wbm/auth/logout").status_code == 200
            assert c.get("/api/wbm/park").status_code == 401
        with httpx.Client(base_url=base, timeout=30) as c:
            change_factory_password(c, "manufacturer")
            token = c.headers.pop(CSRF_HEADER)
            no_csrf = []
            for method, path, op, has_body in operations():
                if method in ("GET", "HEAD") or ROLE_MATRIX[op] is Role.GUEST:
                    continue
                if _send(c, method, path, op, has_body) != 403:
                    no_csrf.append(op)
            assert no_csrf == []
            c.headers[CSRF_HEADER] = token + "x"
            assert c.put("/api/wbm/config/park", json={"name": "P"}).status_code == 403
            c.headers[CSRF_HEADER] = token
            assert c.put("/api/wbm/config/park", json={"name": "P"}).status_code == 200
