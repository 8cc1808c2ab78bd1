#!/usr/bin/env bash
# Build llama-cpp-python once, portably, into a cache keyed by its version and build flags,
# then install that wheel into the given venv.
#
# Why: llama.cpp compiles for the build machine's CPU by default (GGML_NATIVE). A wheel built on
# a CPU that advertises AVX-512/AMX crashed (general protection fault in libggml-cpu) on another
# machine, and pip's wheel cache is keyed by version only, so it would hand that native wheel to
# any later venv. Here the flags are fixed (x86-64 with AVX2/FMA/F16C/BMI2 where the CPU has
# them, else none of those; never AVX-512/AMX; on other architectures the x86 flags are
# ignored), the build bypasses pip's cache, and the wheel lives in a folder named by a hash of
# the flags: a wheel built with other flags is never picked up.
#
# Usage: tools/llama_wheel.sh VENV [VERSION]
set -euo pipefail
venv=${1:?usage: tools/llama_wheel.sh VENV [VERSION]}
version=${2:-0.3.36}
# x86-64-v3 (AVX2/FMA/F16C/BMI2) where this CPU has all of it; on one without (older CPUs, some
# VMs) those instructions would kill the server with SIGILL, so they are left out there (slower,
# but it runs). The flags are in the cache key: the two builds never mix.
x86_v3="-DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
if [[ $(uname -m) == x86_64 && -r /proc/cpuinfo ]]; then
    cpu=$(grep -m1 '^flags' /proc/cpuinfo || true)
    for f in avx avx2 fma f16c bmi2; do
        if [[ " $cpu " != *" $f "* ]]; then
            x86_v3="-DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF"
            echo "this CPU lacks $f: building llama.cpp without AVX/AVX2/FMA/F16C/BMI2" >&2
            break
        fi
    done
fi
flags="-DGGML_NATIVE=OFF $x86_v3"
flags+=" -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF"
flags+=" -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
flags+=" -DLLAVA_BUILD=OFF"
key=$(printf '%s|%s|%s' "$version" "$flags" "$(uname -m)" | sha256sum | cut -c1-16)
cache=${LOCI_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/loci/wheels}/llama-cpp-python-$version-$key
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)

wheel=$(ls "$cache"/llama_cpp_python-"$version"-*.whl 2>/dev/null | head -n1 || true)
if [[ -z $wheel ]]; then
    echo "building llama-cpp-python $version portably (once, ~4 min): $flags" >&2
    tmp=$(mktemp -d "${cache%/*}/.build.XXXXXX" 2>/dev/null || { mkdir -p "${cache%/*}"; mktemp -d "${cache%/*}/.build.XXXXXX"; })
    trap 'rm -rf "$tmp"' EXIT
    CMAKE_ARGS="$flags" FORCE_CMAKE=1 "${pip[@]}" wheel --no-deps --no-cache-dir \
        --no-binary llama-cpp-python -w "$tmp" "llama-cpp-python==$version"
    printf '%s\n' "$flags" >"$tmp/BUILD_FLAGS"
    chmod 755 "$tmp"
    # Publish atomically: a half-built folder never looks like a finished one.
    rm -rf "$cache" && mv "$tmp" "$cache"
    trap - EXIT
    wheel=$(ls "$cache"/llama_cpp_python-"$version"-*.whl | head -n1)
fi
"${pip[@]}" install "$wheel[server]"
