#!/usr/bin/env bash
# Graphviz must accept what tdp_dump writes as DOT: for a table of each
# format family, tdp-dump --dot (whole, a sub-range, unfolded) is piped to
# `dot -Tsvg`; any non-zero exit, of either, fails.
#   check_dot.sh TDP-DUMP DOT            the check
#   check_dot.sh TDP-DUMP DOT --truncate the same graphs cut short: must fail
#                                        (shows that dot's verdict is heard)
set -euo pipefail
tool=$1 dot=$2 cut=${3:-}
# sizes are multiples of 64 KiB, so one script serves every granule
cmds=('map 0x0 0x40000000 1G rw' 'map 0x40000000 0x1000000 256K r max=0'
	'unmap 0x40010000 64K' 'map 0x80000000 0x90000000 64K rw sw=1' 'split 0x0 2M 0')
for cfg in 4K/40 16K/48 64K/42 ept-4l ept-5l 'sv39x4 napot' sv48x4-napot-pbmt-adu \
	sv57x4-napot-vptc-cap3; do
	# unfolded over a small range only: dot cannot lay out a record of 8192 fields
	for opts in "" "--range 0x40000000:0x200000" "--no-fold --range 0x0:0x200000"; do
		# shellcheck disable=SC2086 # cfg's flag words and opts are separate arguments
		set -- --config ${cfg%% *} $([ "${cfg#* }" != "$cfg" ] && echo --flag "${cfg#* }") \
			--dot $opts "${cmds[@]}"
		graph=$("$tool" "$@")
		# cut after the tool finished: only dot can fail the negative control
		[ -z "$cut" ] || graph=${graph:0:300}
		printf '%s\n' "$graph" | "$dot" -Tsvg -o /dev/null
		echo "ok $cfg $opts"
	done
done
