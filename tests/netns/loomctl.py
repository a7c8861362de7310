#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# loomctl.py - minimal loom-netd control client for tests (framing per docs/control-protocol.md).
"""Usage:
  loomctl.py SOCK CMD [ARGS-JSON]     send one request, print the reply,
                                      exit 0 if ok, 1 if an error reply
  loomctl.py SOCK --raw TEXT          send TEXT framed as-is (bad JSON tests)
  loomctl.py SOCK --oversize          announce a 1 MiB message
  loomctl.py SOCK --idle SECS         connect and stay silent (idle client)
"""
import json
import socket
import struct
import sys
import time


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed by loom-netd")
        buf += chunk
    return buf


def recv_reply(s):
    (n,) = struct.unpack(">I", recv_exact(s, 4))
    return json.loads(recv_exact(s, n))


def send_frame(s, data):
    try:
        s.sendall(struct.pack(">I", len(data)) + data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # netd may have answered and closed already (refused peer)


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(20)
    s.connect(sys.argv[1])
    mode = sys.argv[2]
    if mode == "--raw":
        send_frame(s, sys.argv[3].encode())
    elif mode == "--oversize":
        s.sendall(struct.pack(">I", 1 << 20) + b"{" * 1024)
    elif mode == "--idle":
        time.sleep(float(sys.argv[3]))
        return 0
    else:
        args = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
        req = {"id": 1, "cmd": mode, "args": args}
        send_frame(s, json.dumps(req).encode())
    reply = recv_reply(s)
    print(json.dumps(reply, indent=1))
    return 0 if reply.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main())
