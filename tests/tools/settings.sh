#!/bin/bash
# tests/tools/settings.sh - do flux.conf(5), flux.conf.example and the
# settings table of common/conf.c list the same settings with the same
# defaults? Prints one line per difference, saying what to add or change
# where, and exits 1 if there is any. Needs tests/unit/conf_table (make
# check builds it). Run by tests/docs.bats; run it by hand after adding a
# setting to the table.
#
# The forms it reads:
#   man/flux.conf.5    .It Ic NAME Pq default Ql VALUE   (or Pq unset, Pq empty)
#   flux.conf.example  #NAME = VALUE                     (#NAME = when unset or empty)
set -euo pipefail
cd "$(dirname "$0")/../.."
MAN=man/flux.conf.5 EXAMPLE=flux.conf.example

tests/unit/conf_table | awk -F'\t' -v man="$MAN" -v example="$EXAMPLE" '
function manform(d) {
	return d == "(unset)" ? "Pq unset" : d == "" ? "Pq empty" : "Pq default Ql " d
}
function exform(d) { return d == "(unset)" ? "" : d }
function bad(msg) { print msg; n++ }
FILENAME == "-" { order[++nt] = $1; def[$1] = $2; next }
FILENAME == man && /^\.It Ic [A-Z][A-Z0-9_]* / {
	name = $0; sub(/^\.It Ic /, "", name); rest = name; sub(/ .*/, "", name)
	sub(/^[^ ]* /, "", rest)
	if (name in mdef) bad(man ": " name " is described twice")
	mdef[name] = rest; mline[name] = FNR; next
}
FILENAME == example && /^#?[A-Z][A-Z0-9_]* =/ {
	line = $0; sub(/^#/, "", line)
	name = line; sub(/ =.*/, "", name)
	val = line; sub(/^[^=]*=[ ]?/, "", val)
	if (name in edef) bad(example ": " name " is listed twice")
	edef[name] = val; next
}
END {
	for (i = 1; i <= nt; i++) {
		s = order[i]; d = def[s]
		if (!(s in mdef))
			bad(s " (default \"" exform(d) "\") is in common/conf.c but not in " man \
			    ": add \".It Ic " s " " manform(d) "\" and what it does under SETTINGS")
		else if (mdef[s] != manform(d))
			bad(man ":" mline[s] ": " s " reads \"" mdef[s] "\"; common/conf.c has the default \"" \
			    exform(d) "\": make it \".It Ic " s " " manform(d) "\"")
		if (!(s in edef))
			bad(s " is in common/conf.c but not in " example ": add \"#" s " =" \
			    (exform(d) == "" ? "" : " " exform(d)) "\"")
		else if (edef[s] != exform(d))
			bad(example ": " s " is \"" edef[s] "\"; common/conf.c has the default \"" \
			    exform(d) "\": make the line \"#" s " =" (exform(d) == "" ? "" : " " exform(d)) "\"")
	}
	for (s in mdef) if (!(s in def))
		bad(man ":" mline[s] ": " s " is not a setting of common/conf.c: remove it, or add it to the table")
	for (s in edef) if (!(s in def))
		bad(example ": " s " is not a setting of common/conf.c: remove it, or add it to the table")
	exit n > 0
}' - "$MAN" "$EXAMPLE"
