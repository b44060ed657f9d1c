#!/bin/sh
# The man pages are clean mdoc: mandoc -Tlint reports nothing at level
# "warning" or above (cross-references between our own pages aside, which
# resolve once installed).
set -u
fail=0
for page in "$1"/*.[1-9]; do
	out=$(mandoc -Tlint -W warning "$page" 2>&1 | grep -v 'referenced manual not found')
	if [ -n "$out" ]; then
		echo "$out"
		fail=1
	fi
done
exit $fail
