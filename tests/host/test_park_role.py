"""The Module Switch's effects on this head besides its services: ETH1's networkd file from the station's
role (server 192.168.4.1, a client at its address in the park's /24), applied or left as it was, the WBM
listening on the USB-C link only on a client, and the role read from the station record. ETH1 applied by the
real networkd in namespaces: tests/e2e/test_park_eth1_netns.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from chargepark.config.checks import park_client_problem
from chargepark.config.store import ConfigStore
from chargepark.network import layout
from chargepark.network.host import NetworkHost
from chargepark.park import eth1, role
from chargepark.runtime import Runtime


def runtime(tmp_path: Path, listen: str = "0.0.0.0", station: str = "HEAD1") -> Runtime:
    return Runtime(data_dir=str(tmp_path), mqtt_port=1883, rest_port=0, web_port=0, listen_host=listen,
                   bus={"station": station} if station else {})  # fmt: skip


def test_eth1_carries_the_roles_address_in_the_park_and_nothing_beyond_the_link() -> None:
    server = eth1.network_file("server", "")
    assert "Name=eth1" in server.splitlines() and "Address=192.168.4.1/24" in server.splitlines()
    client = eth1.network_file("client", "192.168.4.23").splitlines()
    assert "Address=192.168.4.23/24" in client
    assert not [line for line in client if line.startswith(("Gateway=", "DNS=", "DHCP="))]
    for wrong in ("192.168.4.1", "192.168.4.0", "192.168.4.255", "192.168.5.2", "10.0.0.1", "x"):
        with pytest.raises(eth1.Eth1Refused):
            eth1.network_file("client", wrong)
        assert park_client_problem(wrong)
    assert park_client_problem("192.168.4.254") is None


def test_a_failing_networkctl_leaves_the_previous_eth1_file(tmp_path: Path) -> None:
    listed = NetworkHost(tmp_path, system=False)
    assert eth1.apply(listed, "client", "192.168.4.7")["changed"] == ["/" + layout.ETH1_NETWORK]
    before = (tmp_path / layout.ETH1_NETWORK).read_text()
    failing = NetworkHost(tmp_path, system=True, tools={"networkctl": "false"})
    with pytest.raises(eth1.Eth1Refused, match="ETH1 not configured"):
        eth1.apply(failing, "client", "192.168.4.8")
    assert (tmp_path / layout.ETH1_NETWORK).read_text() == before
    assert eth1.apply(listed, "client", "192.168.4.7")["changed"] == []  # the same file: nothing written


def test_a_client_answers_the_wbm_on_usb_only(tmp_path: Path) -> None:
    assert role.wbm_host(runtime(tmp_path), role.CLIENT) == "192.168.5.1"
    assert role.wbm_host(runtime(tmp_path), role.SERVER) == "0.0.0.0"
    assert role.wbm_host(runtime(tmp_path, listen="127.0.0.1"), role.CLIENT) == "127.0.0.1"  # development


def test_the_role_is_the_station_records(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    assert role.station_role(rt) == role.SERVER  # no store yet
    store = ConfigStore.open(rt.config_path)
    try:
        assert role.station_role(rt) == role.SERVER  # no record
        store.put("station", {"role": "client", "address": "192.168.4.9"}, "HEAD1")
        assert role.station_role(rt) == role.CLIENT
        assert role.station_role(runtime(tmp_path, station="")) == role.SERVER  # no bus: no station
    finally:
        store.close()
