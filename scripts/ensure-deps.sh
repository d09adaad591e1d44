#!/bin/sh
# Makes sure the Debian packages a make target needs are installed.
# As root it installs what is missing with apt-get; otherwise it names the
# packages and fails, so no build step ever half-works on a missing library.
#
# Usage: scripts/ensure-deps.sh build|test|bench|format|fuzz
set -eu

build_pkgs="gcc make pkg-config libc6-dev liburing-dev"
# systemd: systemd-socket-activate and systemd-analyze, for the socket
# activation and unit tests; python3-prometheus-client parses the metrics.
test_pkgs="$build_pkgs libcmocka-dev python3 python3-pytest python3-prometheus-client"
test_pkgs="$test_pkgs netcat-openbsd tmux systemd"
# test_bench_experiments_smoke.py checks that make bench draws its plots.
test_pkgs="$test_pkgs gnuplot-nox"
bench_pkgs="$build_pkgs gnuplot-nox"
format_pkgs="clang-format"
# make fuzz: clang with libFuzzer and the sanitizer runtimes (compiler-rt).
fuzz_pkgs="$build_pkgs clang libclang-rt-14-dev"
# bench/run.py drives the experiments; taskset (util-linux) pins server and load.
bench_pkgs="$bench_pkgs python3 util-linux"

case "${1:-}" in
build) wanted=$build_pkgs ;;
test) wanted=$test_pkgs ;;
bench) wanted=$bench_pkgs ;;
format) wanted=$format_pkgs ;;
fuzz) wanted=$fuzz_pkgs ;;
*)
    echo "usage: $0 build|test|bench|format|fuzz" >&2
    exit 2
    ;;
esac

missing=""
for pkg in $wanted; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    [ "$status" = "installed" ] || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "sockserv needs these Debian packages:$missing" >&2
    echo "install them with: sudo apt-get install$missing" >&2
    exit 1
fi

echo "installing missing packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists of a fresh machine are empty; an update is needed first.
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
