#!/usr/bin/env bash
# Replays each fuzz target's seed corpus (run by `make check`).
set -euo pipefail
src="${srcdir:-.}/test/fuzz/corpus"
for target in json registration route cursor query redirect mail_address; do
    "./test/fuzz/replay-$target" "$src/$target"
done
