#!/usr/bin/env bash
# test/fuzz/build.sh [TARGET...]
# Builds libFuzzer binaries of test/fuzz/fuzz_*.c (every one, or the named
# targets, e.g. `json`) into run/fuzz/bin/, with clang-14
# -fsanitize=fuzzer,address,undefined; UBSan findings abort like ASan's.
# Needs clang-14 and libclang-rt-14-dev (in PP_DEPS), not configure or make.
# test/fuzz/run-fuzz builds and runs them; see test/fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
CC=${CC:-clang-14}
out=${PP_FUZZ_BIN:-run/fuzz/bin}

sanitize=(-fsanitize=address,undefined -fno-sanitize-recover=undefined)
read -ra pkg_cflags <<< "$(pkg-config --cflags apr-1 apr-util-1 json-c libcurl libcrypto libidn2)"
read -ra pkg_libs <<< "$(pkg-config --libs apr-1 apr-util-1 json-c libcurl libcrypto libidn2)"
pkg_libs+=(-lunistring)   # pp_email.c
cflags=(-g -O1 -std=c11 -Wall -Wextra -Werror -Ilibpolypartner -Icommon "${pkg_cflags[@]}")

if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    targets=()
    for src in test/fuzz/fuzz_*.c; do
        name="${src#test/fuzz/fuzz_}"
        targets+=("${name%.c}")
    done
fi
for t in "${targets[@]}"; do
    [[ -f "test/fuzz/fuzz_$t.c" ]] || { echo "build.sh: no test/fuzz/fuzz_$t.c" >&2; exit 2; }
done

# The core (APR-only pp_*.c) once, instrumented for coverage; each target
# then links against it.
mkdir -p "$out/obj"
objs=()
for src in libpolypartner/pp_*.c common/pp_*.c; do
    obj="$out/obj/$(basename "$src" .c).o"
    "$CC" "${cflags[@]}" "${sanitize[@]}" -fsanitize=fuzzer-no-link -c -o "$obj" "$src"
    objs+=("$obj")
done

for t in "${targets[@]}"; do
    "$CC" "${cflags[@]}" "${sanitize[@]}" -fsanitize=fuzzer -o "$out/fuzz_$t" \
        "test/fuzz/fuzz_$t.c" "${objs[@]}" "${pkg_libs[@]}"
    echo "built $out/fuzz_$t"
done
