#!/bin/sh
# Runs each fuzz target named on the command line for FUZZ_SECONDS (20 by
# default), one after another, from its seeds in fuzz/corpus/TARGET/ and
# what earlier runs found in build/fuzz/corpus/TARGET/ (the only corpus a
# run writes to). A crash ends that target's run: its input is saved under
# build/fuzz/crashes/ and the command that replays it is printed; the
# other targets still run, and the script fails at the end, so CI fails. Run it through `make fuzz`, which builds the
# targets first.
set -eu
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-20}
build=build/fuzz
mkdir -p "$build/crashes"

summary=""
status=0
for target in "$@"; do
    binary="$build/$target"
    corpus="$build/corpus/$target"
    seeds="fuzz/corpus/$target"
    log="$build/$target.log"
    mkdir -p "$corpus"
    [ -d "$seeds" ] || seeds=""
    # A target's words (commands, schemes, units) help it past the parser's
    # first checks; fuzz/TARGET.dict when there is one.
    dict=""
    [ -f "fuzz/$target.dict" ] && dict="-dict=fuzz/$target.dict"
    echo "== $target: $seconds s (log: $log)"
    # -timeout: one input running for 10 s is a hang, reported as a crash.
    # -rss_limit_mb: a leak or runaway allocation fails instead of swapping.
    # shellcheck disable=SC2086
    if "$binary" "$corpus" $seeds $dict -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$build/crashes/$target-" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        edges=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
        summary="$summary$(printf '%-22s %12s %8s  ok' "$target" "${runs:-?}" "${edges:-?}")
"
    else
        status=1
        tail -n 40 "$log" >&2
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        summary="$summary$(printf '%-22s %12s %8s  FAILED' "$target" - -)
"
        if [ -n "$artifact" ]; then
            echo "$target found a crash; replay it with:" >&2
            echo "  make fuzz-repro TARGET=$target INPUT=$artifact" >&2
        fi
    fi
done

printf '\n%-22s %12s %8s  %s\n' target executions edges result
printf '%s' "$summary"
exit $status
