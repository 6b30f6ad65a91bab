"""Clients that would starve the API, replayed against a real vpcd: 2,000
idle connections, 2,000 slowloris connections (heads and bodies sent a
byte at a time), one address opening more than its share, a full
connection table, 990 connections each sending a 1 MiB body without a
valid signature (whose refusals are logged at most 20 a kind per 10 s). Through each, a signed DescribeVpcs from another client
(another source address) is answered within 1 s; slow clients are cut
off at the request timeout; vpcd's RSS stays under 200 MB. Hostile
connections come from 127.0.0.2 and up (loopback: another client each),
the well-behaved client from 127.0.0.1."""
import errno
import select
import socket
import sys
import time
import unittest

from hostile import apiraw
import vpcdtest

SERVED_WITHIN_S = 1.0


def sources(n, first=2):
    return ["127.0.0.%d" % i for i in range(first, first + n)]


def closed_by_peer(s):
    """True when vpcd has closed the connection (EOF or reset)."""
    try:
        s.setblocking(False)
        return s.recv(65536) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def close_all(socks):
    for s in socks:
        try:
            s.close()
        except OSError:
            pass


class Starvation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        apiraw.raise_fd_limit(6000)

    def served(self, v, ec2):
        t0 = time.monotonic()
        self.assertTrue(ec2.describe_vpcs()["Vpcs"])
        elapsed = time.monotonic() - t0
        self.assertLess(elapsed, SERVED_WITHIN_S)
        return elapsed

    def test_idle_connections(self):
        with vpcdtest.Vpcd() as v:
            ec2 = v.client()
            ec2.describe_vpcs()
            socks = apiraw.open_connections(v.port, 2000, sources(40))
            try:
                time.sleep(0.5)
                took = self.served(v, ec2)
                took_new = self.served(v, v.client())  # a new connection too
                print("2,000 idle connections: signed DescribeVpcs in %.3f s (kept-alive), %.3f s (new)"
                      % (took, took_new), file=sys.stderr)
                open_now = sum(not closed_by_peer(s) for s in socks)
                self.assertEqual(open_now, 2000)  # none refused: they were open during the request
            finally:
                close_all(socks)
            apiraw.alive(self, v)

    def test_slowloris(self):
        with vpcdtest.Vpcd(["--request-timeout", "3"]) as v:
            ec2 = v.client()
            ec2.describe_vpcs()
            head = b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            socks = apiraw.open_connections(v.port, 1000, sources(20), first_bytes=head)
            # the other half: a valid signature head, then a body that trickles
            body = b"Action=DescribeVpcs&Version=2016-11-15"
            hdrs = apiraw.sign("127.0.0.1:%d" % v.port, body)
            signed = ("POST / HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in hdrs.items()) +
                      "Content-Length: %d\r\n\r\n" % len(body)).encode()
            socks += apiraw.open_connections(v.port, 1000, sources(20, 30), first_bytes=signed + body[:1])
            try:
                start = time.monotonic()
                worst = 0
                # a byte a second from each: never idle, never done
                for i in range(2):
                    for s in socks[:1000]:
                        try:
                            s.send(b"X")
                        except OSError:
                            pass
                    for s in socks[1000:]:
                        try:
                            s.send(body[1 + i:2 + i])
                        except OSError:
                            pass
                    worst = max(worst, self.served(v, ec2))
                    time.sleep(0.7)
                print("2,000 slowloris connections: signed DescribeVpcs in %.3f s at worst" % worst, file=sys.stderr)
                # past the 3 s timeout (swept each second), each is cut off
                deadline = start + 3 + 4
                left = list(socks)
                while left and time.monotonic() < deadline:
                    for s in left:
                        try:
                            s.send(b"Y" if s in socks[:1000] else b"")
                        except OSError:
                            pass
                    left = [s for s in left if not closed_by_peer(s)]
                    time.sleep(0.5)
                self.assertEqual(len(left), 0, "%d slow connections still open after the timeout" % len(left))
            finally:
                close_all(socks)
            self.served(v, ec2)

    def test_one_address_takes_its_share_only(self):
        with vpcdtest.Vpcd(["--max-client-connections", "50"]) as v:
            ec2 = v.client()
            socks = []
            try:
                for i in range(120):
                    s = socket.socket()
                    s.bind(("127.0.0.2", 0))
                    s.connect(("127.0.0.1", v.port))
                    socks.append(s)
                time.sleep(0.5)
                refused = sum(closed_by_peer(s) for s in socks)
                self.assertEqual(refused, 70)
                self.served(v, ec2)
            finally:
                close_all(socks)

    def test_full_table_makes_room(self):
        with vpcdtest.Vpcd(["--max-connections", "200"]) as v:
            ec2 = v.client()
            ec2.describe_vpcs()
            # the table full of idle connections from many addresses
            socks = []
            try:
                for i in range(260):
                    s = socket.socket()
                    s.bind(("127.0.0.%d" % (2 + i % 50), 0))
                    s.setblocking(False)
                    try:
                        s.connect(("127.0.0.1", v.port))
                    except BlockingIOError:
                        pass
                    socks.append(s)
                time.sleep(1.5)  # the sweep evicts the longest-waiting
                self.served(v, v.client())
                self.assertGreater(sum(closed_by_peer(s) for s in socks), 60)
            finally:
                close_all(socks)

    def unauthenticated_bodies(self, v, signed_head):
        """990 connections (10 addresses) each sending a 1 MiB body; returns
        the highest RSS seen (KB) and the slowest signed request (s)."""
        body = b"A" * (1 << 20)
        host = "127.0.0.1:%d" % v.port
        if signed_head:
            # a known key id, the right scope and date: only the
            # signature, which covers the body, is wrong
            hdrs = apiraw.sign(host, b"other body")
        else:
            hdrs = {"host": host}
        head = ("POST / HTTP/1.1\r\n" + "".join("%s: %s\r\n" % kv for kv in hdrs.items()) +
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body)).encode()
        ec2 = v.client()
        ec2.describe_vpcs()
        peak, slowest = apiraw.rss_kb(v.proc.pid), 0
        conns = []
        try:
            for i in range(990):
                s = socket.socket()
                s.bind(("127.0.0.%d" % (2 + i % 10), 0))
                s.connect(("127.0.0.1", v.port))
                s.setblocking(False)
                conns.append([s, memoryview(head + body)])
            deadline = time.monotonic() + 20
            next_check = 0
            while conns and time.monotonic() < deadline:
                poller = select.poll()  # not select(): descriptors may be above 1024
                for c in conns:
                    poller.register(c[0], select.POLLOUT)
                w = {fd for fd, _ in poller.poll(200)}
                for c in conns:
                    if c[0].fileno() in w and c[1]:
                        try:
                            n = c[0].send(c[1][:262144])
                            c[1] = c[1][n:]
                        except BlockingIOError:
                            pass
                        except OSError:
                            c[1] = c[1][:0]
                conns_left = []
                for c in conns:
                    if c[1]:
                        conns_left.append(c)
                    else:
                        c[0].close()
                conns = conns_left
                peak = max(peak, apiraw.rss_kb(v.proc.pid))
                if time.monotonic() > next_check:
                    slowest = max(slowest, self.served(v, ec2))
                    next_check = time.monotonic() + 1
            self.assertFalse(conns, "%d bodies could not be sent within 20 s" % len(conns))
            # sent means in the kernel's buffers: vpcd may still be reading
            settle = time.monotonic() + (10 if signed_head else 0.5)
            while time.monotonic() < settle and not (signed_head and "AuthFailure" in v.read_log()):
                peak = max(peak, apiraw.rss_kb(v.proc.pid))
                time.sleep(0.1)
            peak = max(peak, apiraw.rss_kb(v.proc.pid))
        finally:
            close_all(c[0] for c in conns)
        return peak, slowest

    def test_unsigned_bodies(self):
        with vpcdtest.Vpcd() as v:
            lines_before = len(v.read_log().splitlines())
            peak, slowest = self.unauthenticated_bodies(v, signed_head=False)
            # 990 refusals, a line each at most 20 per 10 s and kind, then counted
            self.assertLess(len(v.read_log().splitlines()) - lines_before, 200)
            print("unsigned 1 MiB bodies x 990: peak RSS %d KB, slowest signed request %.3f s" % (peak, slowest),
                  file=sys.stderr)
            self.assertLess(peak, 200 * 1024, "RSS %d KB" % peak)
            self.assertIn("MissingAuthenticationToken", v.read_log())
            # the count of the lines left out is logged once the 10 s window ends
            deadline = time.monotonic() + 12
            while time.monotonic() < deadline and "similar messages suppressed" not in v.read_log():
                time.sleep(0.2)
            self.assertRegex(v.read_log(), r"api: refused signatures: \d+ similar messages suppressed")
            apiraw.alive(self, v)

    def test_bodies_with_a_forged_signature(self):
        with vpcdtest.Vpcd() as v:
            lines_before = len(v.read_log().splitlines())
            peak, slowest = self.unauthenticated_bodies(v, signed_head=True)
            self.assertLess(len(v.read_log().splitlines()) - lines_before, 200)
            print("forged-signature 1 MiB bodies x 990: peak RSS %d KB, slowest signed request %.3f s" % (peak, slowest),
                  file=sys.stderr)
            self.assertLess(peak, 200 * 1024, "RSS %d KB" % peak)
            log = v.read_log()
            self.assertIn("too many bytes of unauthenticated bodies", log)
            self.assertIn("AuthFailure", log)
            apiraw.alive(self, v)


if __name__ == "__main__":
    unittest.main()
