#!/usr/bin/env bash
# Install libna64 into a scratch prefix, then build and run a C program through pkg-config and a C++
# program through the CMake package config, as a Geant4 application would.
set -euo pipefail
src=$1; build=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(find "$prefix" -name 'libna64.so*' -printf '%h\n' | head -1)
export PKG_CONFIG_PATH="$libdir/pkgconfig"
export LD_LIBRARY_PATH="$libdir"
cc "$src/examples/xsec_example.c" $(pkg-config --cflags --libs na64) -o "$prefix/xsec_example"
"$prefix/xsec_example" | grep -q "sigma_ETL"
cmake -S "$src/examples/cmake-consumer" -B "$prefix/consumer" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$prefix/consumer" >/dev/null
"$prefix/consumer/consumer" | grep -q "ECAL X0"
echo "install check passed: pkg-config (C) and find_package (C++) both link libna64"
