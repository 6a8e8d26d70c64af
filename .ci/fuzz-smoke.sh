#!/usr/bin/env bash
# Fuzz smoke run (RELIABILITY.md §6.7, STYLE.md §11): every cargo-fuzz target for
# $FUZZ_SECONDS seconds (default 60) on stable Rust with `--sanitizer none`, as redb's
# CI does. Installs cargo-fuzz if missing. Starts from the checked-in seeds
# (fuzz/corpus/<target>/) and regressions, but writes newly found inputs to a scratch
# corpus so the checked-in one stays small. Any crash fails the run; its artifact is
# copied to fuzz/regressions/<target>/ so `cargo test --test fuzz_corpus` replays it
# once the bug is fixed (commit it with the fix).
#
# Usage: [FUZZ_SECONDS=60] [FUZZ_TARGETS="a b"] .ci/fuzz-smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# Every [[bin]] of fuzz/Cargo.toml, so a new target (e.g. codec_floats) needs no edit here.
targets="${FUZZ_TARGETS:-$(cargo fuzz list)}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
failed=()
for t in $targets; do
    echo "=== fuzz $t for ${seconds}s"
    corpus="fuzz/corpus/$t" regressions="fuzz/regressions/$t" artifacts="fuzz/artifacts/$t"
    mkdir -p "$scratch/$t" "$corpus" "$regressions" "$artifacts"
    # Remember which artifacts existed, so only new ones count as this run's crashes.
    before="$(ls "$artifacts")"
    if ! cargo fuzz run --sanitizer none "$t" "$scratch/$t" "$corpus" "$regressions" \
        -- -max_total_time="$seconds" -timeout=20 -print_final_stats=1; then
        failed+=("$t")
    fi
    for a in "$artifacts"/*; do
        [ -f "$a" ] || continue
        name="$(basename "$a")"
        if ! grep -qxF "$name" <<<"$before"; then
            cp "$a" "$regressions/$name"
            echo "crash input saved as fuzz/regressions/$t/$name"
        fi
    done
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz smoke run FAILED for: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz smoke run passed: $(echo $targets) (${seconds}s each)"
