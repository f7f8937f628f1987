"""The loopback guard of keyexec's Python test apps, in one place.

install(refused) patches socket so that every connection and every name
lookup that is not loopback fails, after calling refused(host). A name
under .invalid fails at once as an unknown host (RFC 6761), as it would
anywhere, and is not a refusal.
"""

import errno
import ipaddress
import socket

MARKER = "LOOPBACK GUARD refused"


def loopback(host):
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def install(refused):
    real_getaddrinfo = socket.getaddrinfo
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def getaddrinfo(host, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else host
        if name is None or loopback(name):
            return real_getaddrinfo(host, *args, **kwargs)
        if name.rstrip(".").lower().endswith(".invalid"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        refused(name)
        raise socket.gaierror(socket.EAI_NONAME, f"{MARKER} {name}")

    def check(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not loopback(address[0]):
            refused(str(address[0]))
            raise OSError(errno.ENETUNREACH, f"{MARKER} {address[0]}")

    def connect(self, address):
        check(self, address)
        return real_connect(self, address)

    def connect_ex(self, address):
        check(self, address)
        return real_connect_ex(self, address)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect, socket.socket.connect_ex = connect, connect_ex
