"""JupiCore REST (charx-interfaces.md 2.2): the CHARX paths a single head serves, prefix /api/v1.0, on the
system area's `rest_port`, no login (as CHARX clients expect).

Reads come from the data hub (live state) and the configuration store. Every write is validated whole
before anything happens, goes through the store, and is answered only once the module confirmed it:
point commands through `chargepark.pointops` (the agent's result), configurations by the checksum the
module reports in its live state. An offline module is a 504 with the reason and nothing is stored; a
change the point's release or locking mode does not allow is a 409 and nothing is stored or sent.
"""

from __future__ import annotations

import asyncio
from typing import Any

import chargedefs as cd
import chargeschema
from fastapi import FastAPI, Query, Request

from chargepark import __version__
from chargepark.asgi import ApiError, JSONBody, make_app
from chargepark.config import restnames
from chargepark.config.areas import AREAS
from chargepark.config.store import ConfigStore
from chargepark.datahub import bodies, control, pointviews, pushed
from chargepark.datahub.hub import DataHub
from chargepark.pointops import PointOps
from chargepark.services.registry import SERVICES
from chargepark.services.spec import ServiceSpec

PREFIX = "/api/v1.0"
CONFIRM_S = 5.0  # store -> pushed change -> agent -> bus -> module -> live sample: well under 1 s
POLL_S = 0.05
CHARGEPOINT = AREAS["chargepoint"]
WHITELIST = AREAS["whitelist"]
# Read-only fields a CHARX client sends back unchanged with a whole configuration (GET, edit, PUT).
READ_ONLY = ("charging_point_uid", "charging_controller_uid", "serial_number", "firmware_version")
LOAD_MANAGEMENT = ("maximum_current", "maximum_current_on_expired_watchdog", "watchdog_timer_sec")
CONTROL_BOOLEANS = tuple(f for f in control.FIELDS if f.name in control.BOOLEANS)
WATCHDOG_FIELDS = tuple(f for f in control.FIELDS if f.name in control.WATCHDOG)


def _params(param_list: str | None) -> list[str]:
    return [n for n in (param_list or "").split(",") if n]


def _pick(values: dict[str, Any], names: list[str]) -> dict[str, Any]:
    unknown = [n for n in names if n not in values]
    if unknown:
        raise ApiError(422, "unknown parameter(s): %s (known: %s)" % (", ".join(unknown), ", ".join(values)),
                       "param_list")  # fmt: skip
    return {n: values[n] for n in names} if names else values


def _application(name: str) -> ServiceSpec:
    for spec in SERVICES:
        if name in (spec.name, spec.client_id) and spec.reads:
            return spec
    raise ApiError(404, "no application %s with configuration areas" % name)


class JupiCoreApi:
    def __init__(self, hub: DataHub, store: ConfigStore, ops: PointOps) -> None:
        self.hub = hub
        self.store = store
        self.ops = ops

    # ---- what is known about a point -------------------------------------------------------------

    def known(self) -> list[str]:
        uids = set(self.hub.points) | set(self.store.keys("module")) | set(self.store.keys("chargepoint"))
        return sorted(uids, key=lambda u: (self.position(u), u))

    def position(self, uid: str) -> int:
        p = self.hub.points.get(uid)
        module = self.store.get("module", uid)
        return p.position if p is not None else int(module["position"]) if module else 0

    def point(self, uid: str) -> str:
        if (
            uid not in self.hub.points
            and self.store.get("module", uid) is None
            and (self.store.get("chargepoint", uid) is None)
        ):
            raise ApiError(404, "no charging controller %s" % uid)
        return uid

    def live_point(self, uid: str) -> str:
        """uid of a point whose module is online now; 404 / 504 otherwise."""
        self.point(uid)
        p = self.hub.points.get(uid)
        if p is None or not p.online:
            raise ApiError(504, "charging controller %s is offline: nothing was changed" % uid)
        return uid

    def config(self, uid: str) -> dict[str, Any]:
        """The point's stored configuration; the defaults (the module's factory face) without one."""
        cfg = self.store.get("chargepoint", uid)
        return dict(cfg) if cfg is not None else CHARGEPOINT.defaults()

    def control(self, uid: str) -> dict[str, Any]:
        record = self.store.get("control", uid)
        return dict(record) if record is not None else AREAS["control"].defaults()

    async def confirmed(self, uid: str, done: Any, what: str) -> None:
        """Waits until done(live sample) holds; 504 naming `what` when the module does not confirm."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONFIRM_S
        while loop.time() < deadline:
            p = self.hub.points.get(uid)
            if p is not None and p.online and done(p.snap):
                return
            await asyncio.sleep(POLL_S)
        raise ApiError(504, "%s is stored, but charging controller %s did not confirm it within %.0f s "
                       "(it gets it when it is back)" % (what, uid, CONFIRM_S))  # fmt: skip

    # ---- views ------------------------------------------------------------------------------------

    def charging_point(self, uid: str) -> dict[str, Any]:
        module = self.store.get("module", uid) or {}
        p = self.hub.points.get(uid)
        return {
            "id": uid,
            "charging_point_uid": uid,
            "charging_controller_uid": uid,
            "charging_point_name": self.config(uid)["name"]
            if p is None or self.store.get("chargepoint", uid)
            else p.name,
            "position": self.position(uid),
            "configured": self.store.get("chargepoint", uid) is not None,
            "online": p is not None and p.online,
            "firmware_version": str(module.get("firmware_version", "")),
        }

    def config_view(self, uid: str) -> dict[str, Any]:
        module = self.store.get("module", uid) or {}
        return dict(
            restnames.to_rest("chargepoint", self.config(uid)),
            charging_point_uid=uid,
            charging_controller_uid=uid,
            serial_number=uid,
            firmware_version=str(module.get("firmware_version", "")),
        )

    def load_management(self, uid: str) -> dict[str, Any]:
        cfg, record = self.config(uid), self.control(uid)
        amps, seconds = control.watchdog(record, cfg)
        return {
            "maximum_current": cfg["max_current_a"],  # load management owns it (its own issue)
            "maximum_current_on_expired_watchdog": amps,
            "watchdog_timer_sec": seconds,
        }

    # ---- writes -----------------------------------------------------------------------------------

    async def put_control(self, uid: str, body: dict[str, Any], fields: tuple[Any, ...]) -> dict[str, Any]:
        """Validates a partial control record, refuses what the point's modes forbid, stores it and sends
        the commands it implies, acknowledged by the module."""
        self.point(uid)
        old = self.control(uid)
        record = bodies.validated(fields, body, old)  # 422, nothing stored
        record = dict(old, **record)
        cfg = self.config(uid)
        changed = {k: v for k, v in body.items() if old[k] != v}
        refused = control.refusal(changed, cfg)
        if refused:
            raise ApiError(409, refused[1], refused[0])
        self.live_point(uid)
        saved = self.store.put("control", record, uid)
        for name, value in control.commands(body, saved, cfg):
            await self.ops.command(uid, name, value)
        return saved

    def read_only_unchanged(
        self, body: dict[str, Any], current: dict[str, Any], names: tuple[str, ...]
    ) -> None:
        for name in names:
            if name in body and body.pop(name) != current[name]:
                raise ApiError(422, "read-only", name)

    async def put_config(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        self.point(uid)
        self.read_only_unchanged(body, self.config_view(uid), READ_ONLY)
        await self.store_config(uid, restnames.from_rest("chargepoint", body))
        return self.config_view(uid)

    async def store_config(self, uid: str, partial: dict[str, Any]) -> None:
        """Validates `partial` over the point's configuration as a whole record, stores it and waits for
        the module's checksum of it; 422 naming the field (CHARX names), nothing stored."""
        try:
            record = CHARGEPOINT.validate(partial, self.config(uid))
        except chargeschema.Invalid as e:
            raise bodies.refuse(restnames.errors_to_rest("chargepoint", e.errors)) from None
        self.live_point(uid)
        try:
            self.store.put("chargepoint", record, uid)  # park-wide rules may still refuse it
        except chargeschema.Invalid as e:
            raise bodies.refuse(restnames.errors_to_rest("chargepoint", e.errors)) from None
        await self.module_confirms(uid, "the configuration")

    async def module_confirms(self, uid: str, what: str) -> None:
        """Waits for the checksum of what the agent sends the module (datahub/pushed.py: the record with the
        fields of its board, OCPP keys and load circuit)."""
        want = pushed.checksum(self.store, uid)
        await self.confirmed(uid, lambda snap: snap.get("config_checksum") == want, what)

    def section(self, uid: str, path: str) -> dict[str, Any]:
        cfg = self.config(uid)
        return {name: cfg[name] for name in pointviews.SECTIONS[path]}

    async def put_section(self, uid: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        self.point(uid)
        for name in body:
            if name not in pointviews.SECTIONS[path]:
                raise ApiError(422, "not a field of %s (%s)" % (path, ", ".join(pointviews.SECTIONS[path])),
                               name)  # fmt: skip
        await self.store_config(uid, body)
        return self.section(uid, path)

    async def put_hmi_config(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        self.point(uid)
        cfg = self.store.get("chargepoint", uid)
        if cfg is None or cfg["rfid_reader_type"] != "charx":
            raise ApiError(409, "no CHARX RFID/NFC board at %s: its RFID reader type must be charx first "
                           "(/charging-points/%s/config)" % (uid, uid), "rfid_reader_type")  # fmt: skip
        try:
            record = pointviews.RFIDBOARD.validate(body, pointviews.hmi_config(self.store, uid))
        except chargeschema.Invalid as e:
            raise bodies.refuse(e.errors) from None
        self.live_point(uid)
        self.store.put("rfidboard", record, uid)
        await self.module_confirms(uid, "the CHARX RFID/NFC board configuration")
        return pointviews.hmi_config(self.store, uid)

    async def delete_config(self, uid: str) -> dict[str, Any]:
        self.point(uid)
        self.live_point(uid)
        self.store.delete("chargepoint", uid)
        await self.confirmed(uid, lambda snap: not int(snap.get("flags", 0)) & cd.FLAG_CONFIGURED,
                             "the factory default")  # fmt: skip
        return self.config_view(uid)

    def put_whitelist(self, tag: str, body: dict[str, Any], create: bool) -> dict[str, Any]:
        problem = WHITELIST.key_problem(tag)
        if problem:
            raise ApiError(422, problem, "uid")
        current = self.store.get("whitelist", tag)
        if create and current is not None:
            raise ApiError(409, "%s is on the whitelist already (PUT changes it)" % tag, "uid")
        try:
            saved = self.store.put("whitelist", restnames.from_rest("whitelist", body), tag)
        except chargeschema.Invalid as e:
            raise bodies.refuse(restnames.errors_to_rest("whitelist", e.errors)) from None
        return self.whitelist_entry(tag, saved)

    def whitelist_entry(self, tag: str, record: dict[str, Any]) -> dict[str, Any]:
        return dict(restnames.to_rest("whitelist", record), uid=tag)

    def put_application(self, spec: ServiceSpec, body: dict[str, Any]) -> dict[str, Any]:
        changes: list[tuple[str, str | None, dict[str, Any] | None]] = []
        for name, partial in body.items():
            if name not in spec.reads:
                raise ApiError(422, "%s reads no area %s (it reads %s)" % (spec.name, name, ", ".join(spec.reads)),
                               name)  # fmt: skip
            if AREAS[name].keyed:
                raise ApiError(422, "the %s area holds one record per %s: edit them by their own paths"
                               % (name, AREAS[name].key), name)  # fmt: skip
            try:
                changes.append((name, None, AREAS[name].validate(partial, self.store.get(name))))
            except chargeschema.Invalid as e:
                raise bodies.refuse(
                    {name if p == "." else "%s.%s" % (name, p): why for p, why in e.errors.items()}
                ) from None
        try:
            self.store.apply(changes)
        except chargeschema.Invalid as e:
            raise bodies.refuse(e.errors) from None
        return self.application(spec)

    def application(self, spec: ServiceSpec) -> dict[str, Any]:
        return {name: self.store.get(name) for name in spec.reads}


def section_routes(app: FastAPI, api: JupiCoreApi, path: str) -> None:
    """GET and PUT of one `pointviews.SECTIONS` path."""
    url = PREFIX + "/charging-controllers/{uid}/" + path
    schema = bodies.object_schema(pointviews.section_fields(path))

    @app.get(url, tags=["charging controllers"], name="get " + path)
    async def get_section(uid: str) -> dict[str, Any]:
        api.point(uid)
        return api.section(uid, path)

    @app.put(url, tags=["charging controllers"], name="put " + path, openapi_extra=bodies.body_doc(schema))
    async def put_section(uid: str, request: Request) -> dict[str, Any]:
        return await api.put_section(uid, path, await bodies.json_object(request))


def build(hub: DataHub, store: ConfigStore, ops: PointOps) -> FastAPI:
    api = JupiCoreApi(hub, store, ops)
    app = make_app("chargepark JupiCore REST", __version__, __doc__ or "")
    lm_schema = bodies.object_schema(
        WATCHDOG_FIELDS,
        {f.name: f.rest for f in WATCHDOG_FIELDS},
        {"maximum_current": {"type": "integer", "description": "read-only: owned by load management"}},
    )
    config_schema = bodies.object_schema(
        CHARGEPOINT.fields,
        restnames.names("chargepoint"),
        {n: {"description": "read-only"} for n in READ_ONLY},
    )
    whitelist_schema = bodies.object_schema(WHITELIST.fields, restnames.names("whitelist"))
    new_entry_schema = dict(whitelist_schema, required=["uid"])
    new_entry_schema["properties"] = dict(whitelist_schema["properties"],
                                          uid={"type": "string", "minLength": 1, "maxLength": 64})  # fmt: skip

    @app.get(PREFIX + "/charging-controllers", tags=["charging controllers"])
    async def controllers() -> dict[str, Any]:
        return hub.controllers()

    @app.get(PREFIX + "/charging-controllers/{uid}/data", tags=["charging controllers"])
    async def data(uid: str, param_list: str | None = Query(None, max_length=2000)) -> JSONBody:
        if uid not in hub.points:
            raise ApiError(404, "no charging controller %s" % uid)
        # The hot path of CHARX clients: encoded at once, not through a response model.
        return JSONBody(_pick(hub.params(uid), _params(param_list)))

    @app.get(PREFIX + "/charging-controllers/{uid}/control", tags=["charging controllers"])
    async def get_control(uid: str, param_list: str | None = Query(None, max_length=2000)) -> dict[str, Any]:
        api.point(uid)
        record = api.control(uid)
        return _pick({n: record[n] for n in control.BOOLEANS}, _params(param_list))

    @app.put(PREFIX + "/charging-controllers/{uid}/control", tags=["charging controllers"],
             openapi_extra=bodies.body_doc(bodies.object_schema(CONTROL_BOOLEANS)))  # fmt: skip
    async def put_control(uid: str, request: Request) -> dict[str, Any]:
        body = await bodies.json_object(request)
        saved = await api.put_control(uid, body, CONTROL_BOOLEANS)
        return {n: saved[n] for n in control.BOOLEANS}

    @app.get(PREFIX + "/charging-controllers/{uid}/load-management-config", tags=["charging controllers"])
    async def get_lm(uid: str, param_list: str | None = Query(None, max_length=2000)) -> dict[str, Any]:
        api.point(uid)
        return _pick(api.load_management(uid), _params(param_list))

    @app.put(PREFIX + "/charging-controllers/{uid}/load-management-config", tags=["charging controllers"],
             openapi_extra=bodies.body_doc(lm_schema))  # fmt: skip
    async def put_lm(uid: str, request: Request) -> dict[str, Any]:
        body = await bodies.json_object(request)
        api.point(uid)
        api.read_only_unchanged(body, api.load_management(uid), ("maximum_current",))
        ours = {f.rest: f.name for f in WATCHDOG_FIELDS}
        await api.put_control(uid, {ours.get(k, k): v for k, v in body.items()}, WATCHDOG_FIELDS)
        return api.load_management(uid)

    @app.post(PREFIX + "/charging-controllers/{uid}/restart", tags=["charging controllers"])
    async def restart(uid: str) -> dict[str, Any]:
        api.live_point(uid)
        await ops.restart(uid)
        return {"restarted": uid}

    for path in pointviews.SECTIONS:
        section_routes(app, api, path)

    @app.get(PREFIX + "/charging-controllers/{uid}/hmi-config", tags=["charging controllers"])
    async def get_hmi_config(uid: str) -> dict[str, Any]:
        api.point(uid)
        return pointviews.hmi_config(store, uid)

    @app.put(PREFIX + "/charging-controllers/{uid}/hmi-config", tags=["charging controllers"],
             openapi_extra=bodies.body_doc(bodies.object_schema(pointviews.RFIDBOARD.fields)))  # fmt: skip
    async def put_hmi_config(uid: str, request: Request) -> dict[str, Any]:
        return await api.put_hmi_config(uid, await bodies.json_object(request))

    @app.get(PREFIX + "/charging-controllers/{uid}/hmi-data", tags=["charging controllers"])
    async def hmi_data(uid: str) -> dict[str, Any]:
        api.point(uid)
        return pointviews.hmi_data(store, uid, api.config(uid))

    @app.get(PREFIX + "/coupled-clients", tags=["charging controllers"])
    async def coupled_clients() -> list[dict[str, Any]]:
        return pointviews.coupled_clients(store, {u for u, p in hub.points.items() if p.online})

    @app.get(PREFIX + "/charging-points", tags=["charging points"])
    async def charging_points() -> list[dict[str, Any]]:
        return [api.charging_point(uid) for uid in api.known()]

    @app.get(PREFIX + "/charging-points/{uid}/config", tags=["charging points"])
    async def get_config(uid: str) -> dict[str, Any]:
        api.point(uid)
        return api.config_view(uid)

    @app.put(PREFIX + "/charging-points/{uid}/config", tags=["charging points"],
             openapi_extra=bodies.body_doc(config_schema))  # fmt: skip
    async def put_config(uid: str, request: Request) -> dict[str, Any]:
        return await api.put_config(uid, await bodies.json_object(request))

    @app.delete(PREFIX + "/charging-points/{uid}/config", tags=["charging points"])
    async def delete_config(uid: str) -> dict[str, Any]:
        return await api.delete_config(uid)

    @app.get(PREFIX + "/rfid-whitelist", tags=["whitelist"])
    async def whitelist() -> list[dict[str, Any]]:
        return [api.whitelist_entry(tag, rec) for tag, rec in sorted(store.get("whitelist").items())]

    @app.post(PREFIX + "/rfid-whitelist", tags=["whitelist"], status_code=201,
              openapi_extra=bodies.body_doc(new_entry_schema))  # fmt: skip
    async def add_entry(request: Request) -> dict[str, Any]:
        body = await bodies.json_object(request)
        tag = body.pop("uid", None)
        if not isinstance(tag, str):
            raise ApiError(422, "required: the RFID tag or EVCC ID", "uid")
        return api.put_whitelist(tag, body, create=True)

    @app.get(PREFIX + "/rfid-whitelist/{tag}", tags=["whitelist"])
    async def get_entry(tag: str) -> dict[str, Any]:
        record = store.get("whitelist", tag) if WHITELIST.key_problem(tag) is None else None
        if record is None:
            raise ApiError(404, "%s is not on the whitelist" % tag)
        return api.whitelist_entry(tag, record)

    @app.put(PREFIX + "/rfid-whitelist/{tag}", tags=["whitelist"],
             openapi_extra=bodies.body_doc(whitelist_schema))  # fmt: skip
    async def put_entry(tag: str, request: Request) -> dict[str, Any]:
        return api.put_whitelist(tag, await bodies.json_object(request), create=False)

    @app.delete(PREFIX + "/rfid-whitelist/{tag}", tags=["whitelist"])
    async def delete_entry(tag: str) -> dict[str, Any]:
        if WHITELIST.key_problem(tag) is not None or store.get("whitelist", tag) is None:
            raise ApiError(404, "%s is not on the whitelist" % tag)
        store.delete("whitelist", tag)
        return {"deleted": tag}

    @app.get(PREFIX + "/applications/{name}/config", tags=["applications"])
    async def get_application(name: str) -> dict[str, Any]:
        return api.application(_application(name))

    @app.put(PREFIX + "/applications/{name}/config", tags=["applications"],
             openapi_extra=bodies.body_doc({"type": "object", "description": "{area: partial record} of the "
                                            "singleton areas the application reads"}))  # fmt: skip
    async def put_application(name: str, request: Request) -> dict[str, Any]:
        spec = _application(name)
        return api.put_application(spec, await bodies.json_object(request))

    @app.get(PREFIX + "/sessions", tags=["chargepark"])
    async def sessions(
        uid: str | None = None, limit: int = Query(100, ge=1, le=1000)
    ) -> list[dict[str, Any]]:
        return hub.store.recent(uid, limit)

    @app.get(PREFIX + "/jupicore/stats", tags=["chargepark"])
    async def stats() -> dict[str, Any]:
        return hub.stats()

    return app
