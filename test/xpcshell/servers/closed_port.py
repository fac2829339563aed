#!/usr/bin/python3
"""A port that refuses connections, for the xpcshell tests' "connection
refused" cases.

Binds a TCP socket to a free loopback port without listening on it, so a
connection to it is refused (RST) and no other process can take the port
meanwhile; prints ws://127.0.0.1:PORT/ as its first line of stdout and
holds the port until stdin reaches end of file.  (Fixed low ports such as 1
or 9 will not do: they are on the banned-port list and fail differently.)
"""
import socket
import sys

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.bind(("127.0.0.1", 0))
print("ws://127.0.0.1:%d/" % sock.getsockname()[1], flush=True)
try:
    while sys.stdin.buffer.read(4096):
        pass
except KeyboardInterrupt:
    pass
sock.close()
