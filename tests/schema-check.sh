#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Validates data files against the JSON Schema of spectrum.json(5).
# Usage: schema-check.sh SCHEMA FILE...
# Exits 0 if every file is valid, 1 if one is not, 2 on a usage error and
# 77 (skipped) when the jsonschema module of /usr/bin/python3 is missing.
set -u

if [ $# -lt 2 ]; then
	echo "usage: $0 SCHEMA FILE..." >&2
	exit 2
fi

python=/usr/bin/python3
if ! [ -x "$python" ] || ! "$python" -c 'import jsonschema' 2>/dev/null; then
	echo "$0: $python has no jsonschema module; skipping" >&2
	exit 77
fi

exec "$python" -c '
import json, sys
import jsonschema

def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)

schema = load(sys.argv[1])
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
validator = cls(schema)
status = 0
for path in sys.argv[2:]:
    try:
        data = load(path)
    except (OSError, ValueError) as e:
        print("%s: error: %s" % (path, e), file=sys.stderr)
        status = 1
        continue
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    for e in errors:
        place = ".".join(str(p) for p in e.absolute_path) or "(top)"
        print("%s: %s: error: %s" % (path, place, e.message), file=sys.stderr)
    if errors:
        status = 1
    else:
        print("%s: ok" % path)
sys.exit(status)
' "$@"
