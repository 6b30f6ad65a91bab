"""Raw requests to vpcd's API for the hostile tests: SigV4 signed here
(hashlib/hmac, as AWS documents it), so that a test can sign what no SDK
would send (a SignedHeaders without host, a body botocore would refuse to
build), and answers parsed with the same XML parser boto3 uses (expat via
ElementTree), so that a malformed answer fails the test."""
import datetime
import hashlib
import hmac
import http.client
import resource
import socket
import time
import urllib.parse
import xml.etree.ElementTree as ET

import vpcdtest

NS = "{http://ec2.amazonaws.com/doc/2016-11-15/}"


def amz_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def sign(host, body, headers=None, signed=("host", "x-amz-date"), key_id=vpcdtest.KEY_ID,
         secret=vpcdtest.SECRET, region=vpcdtest.REGION, method="POST", amz_date=None):
    """The headers of a request of body (bytes) signed over `signed` (the
    SignedHeaders, in that order); headers adds or overrides headers."""
    amz_date = amz_date or amz_now()
    date = amz_date[:8]
    hdrs = {"host": host, "x-amz-date": amz_date,
            "content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    hdrs.update({k.lower(): v for k, v in (headers or {}).items()})
    canon_headers = "".join("%s:%s\n" % (h, hdrs.get(h, "").strip()) for h in signed)
    creq = "\n".join([method, "/", "", canon_headers, ";".join(signed), hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/ec2/aws4_request" % (date, region)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (date, region, "ec2", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    hdrs["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        key_id, scope, ";".join(signed), sig)
    return hdrs


def form(params):
    """application/x-www-form-urlencoded bytes; values may be bytes."""
    return "&".join("%s=%s" % (urllib.parse.quote(k, safe=".-_~"),
                               urllib.parse.quote(v, safe="-_.~")) for k, v in params).encode()


class Answer:
    def __init__(self, status, body, seconds):
        self.status, self.body, self.seconds = status, body, seconds
        self.xml = ET.fromstring(body)  # raises on XML that is not well-formed

    @property
    def code(self):
        c = self.xml.find("./Errors/Error/Code")
        return c.text if c is not None else None

    @property
    def message(self):
        m = self.xml.find("./Errors/Error/Message")
        return m.text if m is not None else None


def post(v, body, headers=None, timeout=30, **kw):
    """POSTs body (bytes), signed unless headers is given whole (kw go to
    sign); returns an Answer."""
    host = "127.0.0.1:%d" % v.port
    hdrs = headers if headers is not None else sign(host, body, **kw)
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", v.port, timeout=timeout)
    try:
        c.request("POST", "/", body=body, headers=hdrs)
        r = c.getresponse()
        data = r.read()
    finally:
        c.close()
    return Answer(r.status, data, time.monotonic() - t0)


def get(v, query, timeout=30):
    """An unsigned GET of /?query (bytes or str); returns an Answer."""
    t0 = time.monotonic()
    c = http.client.HTTPConnection("127.0.0.1", v.port, timeout=timeout)
    try:
        c.request("GET", "/?" + (query.decode() if isinstance(query, bytes) else query))
        r = c.getresponse()
        data = r.read()
    finally:
        c.close()
    return Answer(r.status, data, time.monotonic() - t0)


def raise_fd_limit(n):
    """Raises this process's open-file limit to at least n (up to the hard
    limit); returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(max(soft, n), hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_connections(port, n, sources, first_bytes=b"", timeout=10):
    """n TCP connections to vpcd, spread over the source addresses given
    (127.0.0.x: another client each), each having sent first_bytes.
    Returns the sockets (the caller closes them)."""
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.bind((sources[i % len(sources)], 0))
        s.connect(("127.0.0.1", port))
        if first_bytes:
            s.sendall(first_bytes)
        socks.append(s)
    return socks


def alive(test, v):
    """vpcd answers a signed DescribeVpcs from boto3 (within 1 s)."""
    test.assertIsNone(v.proc.poll(), "vpcd died; log:\n" + v.read_log()[-3000:])
    ec2 = v.client()
    t0 = time.monotonic()
    vpcs = ec2.describe_vpcs()["Vpcs"]
    elapsed = time.monotonic() - t0
    test.assertTrue(vpcs)
    return elapsed
