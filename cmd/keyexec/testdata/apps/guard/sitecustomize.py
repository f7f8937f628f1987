"""Loopback guard for the Python apps of keyexec's app tests.

cmd/keyexec/e2e_apps*_test.go puts this folder on PYTHONPATH, so Python
imports it at start-up, before the app: every connection and every name
lookup that is not loopback is refused and reported on stderr with
loopback_guard.MARKER, which fails the test.
"""

import sys

import loopback_guard


def _refused(what):
    print(f"{loopback_guard.MARKER} {what}", file=sys.stderr, flush=True)


loopback_guard.install(_refused)
