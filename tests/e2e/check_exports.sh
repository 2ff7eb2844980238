#!/bin/sh
# libna64 exports its public API only (issue 8, DESIGN.md): every defined dynamic symbol of the
# library must be declared in a header of include/na64/. Toolchain symbols (_init, _fini, section
# bounds) and sanitizer instrumentation are not ours and are ignored.
# usage: check_exports.sh LIBNA64 INCLUDE_DIR
set -eu
lib=$1
inc=$2
command -v nm >/dev/null || { echo "nm not found"; exit 1; }
[ -f "$lib" ] || { echo "no library $lib"; exit 1; }
# names declared with NA64_API in the public headers: the identifier before '(' or '[' of each
# marked declaration (the name is on the marker's line in every header)
declared=$(grep -h 'NA64_API' "$inc"/*.h | grep -v '#define' | grep -o '\bna64_[A-Za-z0-9_]*[[:space:]]*[[(]' |
  sed 's/[[:space:]]*[[(]$//' | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//' |
  grep -v -E '^(_init|_fini|_edata|_end|__bss_start|__end__|__odr_asan.*|__asan.*|__ubsan.*|__sanitizer.*|__lsan.*)$' | sort -u)
n=0
bad=0
for s in $exported; do
  n=$((n + 1))
  if ! printf '%s\n' "$declared" | grep -qx "$s"; then
    echo "exported but not declared with NA64_API in include/na64/: $s"
    bad=$((bad + 1))
  fi
done
if [ "$n" -lt 100 ]; then
  echo "only $n exported symbols: is the public API marked NA64_API?"
  exit 1
fi
echo "$n exported symbols, $bad not declared in include/na64/"
# the other direction: a public declaration without NA64_API would be hidden (tools/mark_api.py)
if ! python3 "$(dirname "$0")/../../tools/mark_api.py" --check "$inc"/*.h; then
  bad=$((bad + 1))
fi
[ "$bad" -eq 0 ]
