#!/usr/bin/env bash
# Prints payflow's packages for `make test`: `light` ones run with the race
# detector, `heavy` ones (whose code or tests link the Temporal server:
# building it again with -race would double the cold build) without it.
set -euo pipefail
want="${1:?light or heavy}"
server=go.temporal.io/server/temporal
list="$(go list -f '{{.ImportPath}}|{{join .Deps " "}}|{{join .TestImports " "}} {{join .XTestImports " "}}' ./...)"
# Packages whose own code links the server.
heavy=" $(awk -F'|' -v s="$server" 'index(" " $2 " ", " " s " ") {printf "%s ", $1}' <<<"$list")"
while IFS='|' read -r pkg deps tests; do
  kind=light
  for dep in $deps $tests; do
    if [ "$dep" = "$server" ] || [[ "$heavy" == *" $dep "* ]]; then
      kind=heavy
      break
    fi
  done
  [ "$kind" = "$want" ] && echo "$pkg"
done <<<"$list"
exit 0
