"""Loopback guard for the Python apps of keyexec's app tests.

cmd/keyexec/e2e_apps*_test.go puts this folder on PYTHONPATH, so Python
imports it at start-up, before the app: every connection and every name
lookup that is not loopback is refused and reported on stderr with the
marker below, which fails the test. A name under .invalid fails at once as
an unknown host (RFC 6761), as it would anywhere.
"""

import errno
import ipaddress
import socket
import sys

MARKER = "LOOPBACK GUARD refused"


def _loopback(host):
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(what):
    print(f"{MARKER} {what}", file=sys.stderr, flush=True)


_getaddrinfo = socket.getaddrinfo


def _guarded_getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if name is None or _loopback(name):
        return _getaddrinfo(host, *args, **kwargs)
    if name.rstrip(".").lower().endswith(".invalid"):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    _refuse(name)
    raise socket.gaierror(socket.EAI_NONAME, f"{MARKER} {name}")


def _check(sock, address):
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
        _refuse(address[0])
        raise OSError(errno.ENETUNREACH, f"{MARKER} {address[0]}")


_connect, _connect_ex = socket.socket.connect, socket.socket.connect_ex


def _guarded_connect(self, address):
    _check(self, address)
    return _connect(self, address)


def _guarded_connect_ex(self, address):
    _check(self, address)
    return _connect_ex(self, address)


socket.getaddrinfo = _guarded_getaddrinfo
socket.socket.connect = _guarded_connect
socket.socket.connect_ex = _guarded_connect_ex
