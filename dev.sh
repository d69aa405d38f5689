#!/usr/bin/env bash
# One entry point for people and CI: sets everything up, then runs the product or the tests.
#   ./dev.sh run [args]    the head module with a simulated park (WBM on localhost)
#   ./dev.sh test [args]   the whole suite: lint, types, C build with -Werror, sanitizers, pytest
#   ./dev.sh setup         only the set-up
# Idempotent: apt and pip run only when their inputs changed since the last run.
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD
stamps=$top/.stamps
venv=$top/.venv
mkdir -p "$stamps"

# iproute2 .. systemd: the network backend and its namespace tests (tests/e2e/test_network_netns.py);
# dnsmasq-base is the binary without the system service, which would answer DNS on this machine.
# chromium: the WBM's browser tests (Playwright drives Debian's, never its own); libjs-chart.js: the WBM's plots.
# nodejs: npm for the front-end libraries and the OCPP tests' second Central System (ocpp-rpc).
apt_packages="mosquitto mbpoll iproute2 iputils-ping nftables dnsmasq-base openvpn systemd wrk chromium libjs-chart.js nodejs"

need_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

setup_apt() {
    local missing=""
    for p in $apt_packages; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "dev.sh: installing Debian packages:$missing"
    need_root apt-get update -qq
    need_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

setup_python() {
    local want
    want=$(cat pyproject.toml | sha256sum | cut -d' ' -f1)
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
    fi
    if [ "$(cat "$stamps/pip" 2>/dev/null)" != "$want" ]; then
        echo "dev.sh: installing Python packages into .venv"
        "$venv/bin/pip" install -q --upgrade pip
        "$venv/bin/pip" install -q -e ".[dev]"
        echo "$want" >"$stamps/pip"
    fi
    # Extensions built by scons live in out/py; make them importable in the venv.
    local site
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    echo "$top/out/py" >"$site/chargepark-build.pth"
}

# htmx is not packaged by Debian: from the npm registry at set-up time into out/ (the head serves it; no CDN).
web_vendor="htmx.org@2.0.11 htmx-ext-sse@2.2.4"
setup_web() {
    [ "$(cat "$stamps/web" 2>/dev/null)" = "$web_vendor" ] && return 0
    echo "dev.sh: installing WBM front-end libraries into out/web-vendor"
    npm install --silent --no-audit --no-fund --prefix "$top/out/web-vendor" $web_vendor >/dev/null
    echo "$web_vendor" >"$stamps/web"
}

# The second Central System of the OCPP tests (tests/host/ocpp_rpc_cs.js): ocpp-rpc in strict mode, on Node.
ocpp_rpc="ocpp-rpc@2.2.1"
setup_ocpp_rpc() {
    [ "$(cat "$stamps/ocpp-rpc" 2>/dev/null)" = "$ocpp_rpc" ] && return 0
    echo "dev.sh: installing $ocpp_rpc into out/ocpp-rpc"
    npm install --silent --no-audit --no-fund --prefix "$top/out/ocpp-rpc" $ocpp_rpc >/dev/null
    echo "$ocpp_rpc" >"$stamps/ocpp-rpc"
}

setup() {
    setup_apt
    setup_python
    setup_web
    setup_ocpp_rpc
    export PATH="$venv/bin:$PATH"
    scons -Q -j2 core py images >/dev/null
}

cmd=${1:-help}
[ $# -gt 0 ] && shift
case "$cmd" in
    setup) setup ;;
    run)
        setup
        # Debian starts its own mosquitto on 1883 where systemd runs: use it as the system broker.
        if [[ " $* " != *" --broker"* && " $* " != *" --mqtt-port"* ]] && (exec 3<>/dev/tcp/127.0.0.1/1883) 2>/dev/null; then
            echo "dev.sh: a broker already listens on 127.0.0.1:1883; using it as the system broker"
            set -- --broker 127.0.0.1:1883 "$@"
        fi
        exec "$venv/bin/chargepark" run --sim 3 "$@" ;;
    test) setup; exec "$venv/bin/scons" -Q test "$@" ;;
    *) sed -n '2,6p' "$0"; exit 2 ;;
esac
