#!/usr/bin/env bash
# Builds real libFuzzer binaries (needs clang-14 and libclang-rt-14-dev):
#   test/fuzz/build.sh && test/fuzz/fuzz_json -max_total_time=60 test/fuzz/corpus/json
# Run from the repo root after ./configure && make.
set -euo pipefail
cd "$(dirname "$0")/../.."
CC=${CC:-clang-14}
flags=(-g -O1 -fsanitize=fuzzer,address,undefined -Imod_polypartner -Icommon
       $(pkg-config --cflags apr-1 apr-util-1 json-c))
libs=($(pkg-config --libs apr-1 apr-util-1 json-c libcrypto))
libs+=($(pkg-config --libs libcurl libidn2) -lunistring)   # pp_mail.c, pp_email.c
core=(mod_polypartner/pp_*.c common/pp_*.c)
for target in json registration route cursor query redirect mail_address; do
    "$CC" "${flags[@]}" -o "test/fuzz/fuzz_$target" "test/fuzz/fuzz_$target.c" "${core[@]}" "${libs[@]}"
    echo "built test/fuzz/fuzz_$target"
done
