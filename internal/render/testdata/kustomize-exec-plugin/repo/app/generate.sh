#!/bin/sh
# Must never run: render refuses exec plugins.
echo "exec plugin ran" >&2
exit 1
