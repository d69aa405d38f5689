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

apt_packages="mosquitto mbpoll"

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

setup() {
    setup_apt
    setup_python
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
