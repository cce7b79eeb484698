#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets (Fuzz/Package.swift) with -sanitize=fuzzer,address and runs each for
# FUZZ_SECONDS (default 60) on the seed corpus kept in Fuzz/Corpus/<target>/. What a run learns goes to
# Fuzz/.build/corpus/<target>/ (not in git); a crash, a hang (-timeout), a leak or an allocation over
# -malloc_limit_mb is written to Fuzz/artifacts/ and fails the run. docs/testing.md says how to turn a finding into
# a regression test.
#
#   FUZZ_SECONDS=600 make fuzz                 longer
#   FUZZ_TARGETS="SessionTrackerFuzz" make fuzz  one target
#   Fuzz/.build/release/<target> Fuzz/artifacts/<file>   replays one finding
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
TARGETS="${FUZZ_TARGETS:-FrontendFramingFuzz BackendFramingFuzz StartupPacketFuzz SessionTrackerFuzz JSONParserFuzz}"
SWIFT="${SWIFT:-swift}"

echo "fuzz: building (release, -sanitize=fuzzer,address)"
if ! "$SWIFT" build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library; then
    echo "fuzz: build failed" >&2
    exit 2
fi

mkdir -p artifacts
failed=0
summary=()
for target in $TARGETS; do
    work=".build/corpus/$target"
    log=".build/fuzz-$target.log"
    mkdir -p "$work"
    echo "fuzz: $target for ${SECONDS_PER_TARGET}s"
    # The Swift runtime's own crash handler fights ASan's; libFuzzer prints the stack instead.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=0" \
        ".build/release/$target" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
        -malloc_limit_mb=256 -max_len=4096 -print_final_stats=1 -artifact_prefix="artifacts/$target-" \
        "$work" "Corpus/$target" >"$log" 2>&1
    status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -n 1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
    cov=$(sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\)\/\([^ ]*\) .*/cov \1, features \2, corpus \3 (\4)/p' <<<"$last")
    if (( status == 0 )); then
        result="no finding"
    else
        result="FINDING (exit $status): $(grep -E 'ERROR:|Fatal error|SUMMARY' "$log" | head -n 2 | tr '\n' ' ')"
        failed=1
    fi
    summary+=("$(printf '%-20s %10s runs  %-45s peak RSS %5s MB  %s' "$target" "${runs:-?}" "${cov:-?}" "${rss:-?}" "$result")")
done

echo
echo "fuzz: ${SECONDS_PER_TARGET}s per target"
printf '%s\n' "${summary[@]}"
if (( failed )); then
    echo "fuzz: findings in Fuzz/artifacts/ (logs in Fuzz/.build/fuzz-<target>.log)" >&2
    exit 1
fi
