#!/usr/bin/env python3
"""A delaying UDP relay for IKE and NAT-T (ports 500 and 4500), to put a
router far from vpcd when the kernel has no netem.

It joins two network namespaces without routing between them: in the
one where it starts (facing the router) it owns vpcd's outside addresses,
in the other (--far-netns, facing vpcd) it owns the router's address, and
it forwards every datagram from one side to the other DELAY ms later,
keeping the ports, so each end sees the other's address and ports as if
directly connected. A socket keeps the namespace it was made in, so one
process holds both sides.

Usage (started in the router-facing namespace with ip netns exec):
  udp_relay.py --far-netns NS --router-ip A --vpcd-ips B,C --delay-ms 50
Prints "ready" once every socket is bound; runs until killed; a line
"relayed N" per 5 s on stderr. Standard library only."""
import argparse
import ctypes
import heapq
import os
import select
import socket
import sys
import time

CLONE_NEWNET = 0x40000000
PORTS = (500, 4500)


def setns(name):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/run/netns/" + name, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + name)
    finally:
        os.close(fd)


def bound(ip, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.setsockopt(socket.SOL_IP, 15, 1)          # IP_FREEBIND: addresses may come late
    s.bind((ip, port))
    s.setblocking(False)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--far-netns", required=True)
    ap.add_argument("--router-ip", required=True)
    ap.add_argument("--vpcd-ips", required=True)
    ap.add_argument("--delay-ms", type=float, default=50)
    a = ap.parse_args()
    delay = a.delay_ms / 1000.0
    vpcd_ips = a.vpcd_ips.split(",")
    # router side: (vpcd ip, port) -> socket the router talks to
    near = {(ip, p): bound(ip, p) for ip in vpcd_ips for p in PORTS}
    setns(a.far_netns)
    # vpcd side: port -> socket that stands for the router
    far = {p: bound(a.router_ip, p) for p in PORTS}
    # what arrives on a socket goes out of which one, to where
    route = {}
    for (ip, p), s in near.items():
        route[s.fileno()] = ("to_vpcd", ip, p, s)
    for p, s in far.items():
        route[s.fileno()] = ("to_router", None, p, s)
    poller = select.epoll()
    for fd in route:
        poller.register(fd, select.EPOLLIN)
    print("ready", flush=True)
    queue = []      # (due, seq, out socket, data, destination)
    seq = 0
    relayed = 0
    next_report = time.monotonic() + 5
    while True:
        now = time.monotonic()
        timeout = max(0.0, queue[0][0] - now) if queue else 1.0
        for fd, _ in poller.poll(timeout):
            kind, ip, port, s = route[fd]
            while True:
                try:
                    data, src = s.recvfrom(65535)
                except BlockingIOError:
                    break
                if kind == "to_vpcd":
                    # from the router (src) to vpcd's ip:port, out of the
                    # far socket with the router's source port
                    if src[1] not in far:
                        continue
                    out, dst = far[src[1]], (ip, port)
                else:
                    # from vpcd (src = vpcd ip, port) to the router's port
                    out = near.get((src[0], src[1]))
                    if out is None:
                        continue
                    dst = (a.router_ip, port)
                seq += 1
                heapq.heappush(queue, (time.monotonic() + delay, seq, out, data, dst))
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, out, data, dst = heapq.heappop(queue)
            try:
                out.sendto(data, dst)
                relayed += 1
            except OSError:
                pass
        if now >= next_report:
            print("relayed %d" % relayed, file=sys.stderr, flush=True)
            next_report = now + 5


if __name__ == "__main__":
    main()
