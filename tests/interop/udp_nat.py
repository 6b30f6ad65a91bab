#!/usr/bin/env python3
"""A userspace NAT for IKE and NAT-T (UDP 500 and 4500), since this kernel
has neither iptables nor nft: it puts a router behind a NAT that changes
its address AND its ports, as a home or carrier NAT does.

It joins two network namespaces without routing between them. In the one
where it starts (facing the router) it owns vpcd's outside addresses; in
the other (--far-netns, vpcd's) it owns the NAT's public address. A
datagram from the router (R:r) to vpcd (V:v) leaves from PUBLIC:p, where p
is the port this mapping got when (R:r, V:v) was first seen (40000 up);
vpcd's answers to PUBLIC:p go back to R:r from V:v. So vpcd sees the
router as PUBLIC with ports that are neither 500 nor 4500, and the
router's 500 and 4500 get different ports, as behind a real NAT. A socket
keeps the namespace it was made in, so one process holds both sides.

Usage (started in the router-facing namespace with ip netns exec):
  udp_nat.py --far-netns NS --public-ip A --vpcd-ips B,C
Prints "ready" once every socket is bound; runs until killed; "mapped
R:r -> PUBLIC:p" on stderr for every new mapping. Standard library only."""
import argparse
import ctypes
import os
import select
import socket
import sys

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
    s.setsockopt(socket.SOL_IP, 15, 1)          # IP_FREEBIND
    s.bind((ip, port))
    s.setblocking(False)
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--far-netns", required=True)
    ap.add_argument("--public-ip", required=True)
    ap.add_argument("--vpcd-ips", required=True)
    a = ap.parse_args()
    near_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
    # router side: (vpcd ip, port) -> the socket the router talks to
    near = {(ip, p): bound(ip, p) for ip in a.vpcd_ips.split(",") for p in PORTS}
    setns(a.far_netns)
    poller = select.epoll()
    route = {}          # fd -> ("in", (vpcd ip, port), socket) | ("out", mapping, socket)
    for key, s in near.items():
        route[s.fileno()] = ("in", key, s)
        poller.register(s.fileno(), select.EPOLLIN)
    mappings = {}       # (router addr, vpcd ip, vpcd port) -> public-side socket
    next_port = [40000]

    def mapping(router, vpcd_key):
        k = (router, vpcd_key)
        if k not in mappings:
            s = bound(a.public_ip, next_port[0])   # in the far namespace (setns above)
            next_port[0] += 1
            mappings[k] = s
            route[s.fileno()] = ("out", k, s)
            poller.register(s.fileno(), select.EPOLLIN)
            print("mapped %s:%d -> %s:%d" % (router[0], router[1], a.public_ip,
                                              s.getsockname()[1]), file=sys.stderr, flush=True)
        return mappings[k]

    print("ready", flush=True)
    os.close(near_ns)
    while True:
        for fd, _ in poller.poll(1.0):
            kind, key, s = route[fd]
            while True:
                try:
                    data, src = s.recvfrom(65535)
                except BlockingIOError:
                    break
                try:
                    if kind == "in":          # router -> vpcd, through the mapping
                        mapping(src, key).sendto(data, key)
                    else:                     # vpcd -> router, from the address it asked
                        router, vpcd_key = key
                        if src == vpcd_key:
                            near[vpcd_key].sendto(data, router)
                except OSError:
                    pass


if __name__ == "__main__":
    main()
