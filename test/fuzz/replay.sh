#!/usr/bin/env bash
# Replays each fuzz target's seed corpus (run by `make check`): every
# test/fuzz/fuzz_T.c needs a check program test/fuzz/replay-T in Makefile.am
# and a corpus test/fuzz/corpus/T.
set -euo pipefail
top="${srcdir:-.}"
for src in "$top"/test/fuzz/fuzz_*.c; do
    t="${src##*/fuzz_}"
    t="${t%.c}"
    if [[ ! -x "./test/fuzz/replay-$t" ]]; then
        echo "replay.sh: ./test/fuzz/replay-$t is not built: add it to check_PROGRAMS in Makefile.am" >&2
        exit 1
    fi
    "./test/fuzz/replay-$t" "$top/test/fuzz/corpus/$t"
done
