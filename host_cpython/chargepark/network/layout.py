"""Where the backend writes, the interfaces it manages, and the route metrics: one table each."""

from __future__ import annotations

ETH0 = "eth0"
ETH1 = "eth1"  # the park's server-client link (park/eth1.py; no network area field configures it)
USB0 = "usb0"  # the USB-C service port (network/usb0.py; fixed, no field configures it)
WLAN = "wlan0"
# Links that never pass Port Sharing: loopback, the park's internal ETH1 and the USB-C service port.
INTERNAL_LINKS = ("lo", ETH1, USB0)

# Files, relative to the root directory that `apply` writes into ("/" on a head).
HOSTNAME = "etc/hostname"
ETH0_NETWORK = "etc/systemd/network/10-chargepark-eth0.network"
ETH1_NETWORK = "etc/systemd/network/11-chargepark-eth1.network"
USB0_NETWORK = "etc/systemd/network/12-chargepark-usb0.network"
WLAN_NETWORK = "etc/systemd/network/20-chargepark-wlan0.network"
HOSTAPD = "etc/hostapd/wlan0.conf"  # read by Debian's hostapd@wlan0.service
WPA_SUPPLICANT = "etc/wpa_supplicant/wpa_supplicant-wlan0.conf"  # read by wpa_supplicant@wlan0.service
AP_TIMEOUT_UNIT = "etc/systemd/system/chargepark-ap-timeout.service"
FIREWALL = "etc/chargepark/firewall.nft"
FIREWALL_UNIT = "etc/systemd/system/chargepark-firewall.service"
ROUTES = "etc/chargepark/routes.batch"
ROUTES_UNIT = "etc/systemd/system/chargepark-routes.service"
OPENVPN = "etc/openvpn/client/chargepark.conf"  # read by openvpn-client@chargepark.service
OPENVPN_IMPORTED = "etc/chargepark/openvpn-imported.conf"  # an imported file; never served by the WBM
# Creates the runtime directory at boot: an OpenVPN client started before the head needs it for its socket.
RUNTIME_TMPFILES = "etc/tmpfiles.d/chargepark.conf"
REMOVED_ROUTES = "run/chargepark/removed-routes.json"  # system routes removed until the next restart

# Runtime files of the OpenVPN client (absolute: openvpn opens them itself).
OPENVPN_MANAGEMENT = "/run/chargepark/openvpn.sock"
OPENVPN_STATUS = "/run/chargepark/openvpn.status"

HOSTAPD_SERVICE = "hostapd@wlan0.service"
WPA_SERVICE = "wpa_supplicant@wlan0.service"
OPENVPN_SERVICE = "openvpn-client@chargepark.service"
AP_TIMEOUT_SERVICE = "chargepark-ap-timeout.service"
MODEM_SERVICE = "chargepark-modem.service"  # installed by `chargepark systemd`: connects at boot, on failure

# Default-route metrics (smaller = preferred): the modem sits below or above ETH0 ("Prefer Modem over ETH0").
ETH0_METRIC = 100
MODEM_PREFERRED_METRIC = 50
MODEM_METRIC = 200

NOT_AVAILABLE = "Not Available"
