#!/usr/bin/env bash
# Print the lines of README.md's recipe NAME: every indented block between
# "<!-- recipe: NAME -->" and "<!-- end recipe -->", in order, without the
# indentation. The tests run these lines, so README and tests cannot drift.
# Usage: extract.sh README NAME
set -euo pipefail
awk -v name="$2" '
	$0 == "<!-- recipe: " name " -->" { if (inside) exit 2; inside = 1; found = 1; next }
	$0 == "<!-- end recipe -->" && inside { inside = 0; next }
	!inside { next }
	/^    / { print substr($0, 5); next }
	/^$/ { next }
	{ print "extract.sh: prose inside recipe " name ": " $0 > "/dev/stderr"; exit 2 }
	END { if (inside) exit 2; if (!found) { print "extract.sh: no recipe " name > "/dev/stderr"; exit 1 } }
' "$1"
