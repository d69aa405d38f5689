"""The network backend: the `network` configuration area rendered into a head's Linux configuration and
applied, and the network status read back from the system.

`render` turns a clean network record into files (pure, golden-tested): systemd-networkd for ETH0 and
WLAN, hostapd or wpa_supplicant, the nftables ruleset of Port Sharing, the OpenVPN client, the routes as an
`ip -batch` file and the boot units that replay them. `apply` writes those files atomically below a root
directory and runs the system commands (networkctl, systemctl, nft, ip, mmcli) through `runner.Runner`,
which tests point at a network namespace and at fakes. `status` reads the state back (`ip -j`, sysfs,
`mmcli -J`, wpa_cli, the OpenVPN management socket). docs/network.md maps every field to its setting.
"""
