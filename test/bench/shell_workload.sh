# SPDX-License-Identifier: MIT
# A shell-heavy script for bench/system: command substitutions, pipelines,
# subshells and small external commands, the stuff cron jobs and init scripts
# are made of.  About eleven processes per round.  Usage: bash shell_workload.sh N
n=${1:-200}
for i in $(seq "$n"); do
	x=$(echo "$i" | tr 0-9 a-j)
	y=$(printf '%s\n' "$x" "$i" | sed 's/a/b/' | sort | head -n 1)
	(cd / && ls -d etc > /dev/null)
	[ -n "$y" ] && basename "/tmp/$y" > /dev/null
	sh -c ':'
done
