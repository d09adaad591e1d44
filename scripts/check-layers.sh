#!/bin/sh
# Fails when a source file includes a header its layer may not see; the
# rules are the table in docs/architecture.md ("The layers").
#
# Usage: scripts/check-layers.sh (from the repository root)
set -eu

# allowed LAYER: the folders (under src/) whose headers LAYER may include.
allowed() {
    case "$1" in
    core) echo "core" ;;
    services) echo "core services" ;;
    models) echo "core models" ;;
    netclient) echo "core netclient" ;;
    loadgen) echo "core loadgen" ;;
    chatclient) echo "core netclient chatclient" ;;
    cli) echo "core services models netclient chatclient loadgen cli" ;;
    *) echo "" ;;
    esac
}

status=0
for file in $(find src -name '*.[ch]' | sort); do
    layer=$(echo "$file" | cut -d/ -f2)
    ok=$(allowed "$layer")
    if [ -z "$ok" ]; then
        echo "check-layers: $file is in no known layer (add src/$layer to scripts/check-layers.sh and docs/architecture.md)" >&2
        status=1
        continue
    fi
    for header in $(sed -n 's/^#include "\([a-z_]*\)\/.*"/\1/p' "$file"); do
        case " $ok " in
        *" $header "*) ;;
        *)
            echo "check-layers: $file ($layer) includes a $header/ header" >&2
            status=1
            ;;
        esac
    done
    # The seam: a service sees a connection only through core/conn.h.
    if [ "$layer" = services ] && grep -qE "^#include \"core/conn_(model|internal).h\"" "$file"; then
        echo "check-layers: $file is a service and includes core/conn_model.h" >&2
        status=1
    fi
done
[ $status -eq 0 ] && echo "check-layers: every include keeps to its layer"
exit $status
