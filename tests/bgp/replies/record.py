"""Records one answer of a running BIRD from its control socket, as the socket
sends it (coded lines), for tests/bgp/test_bgp_reply.c.
usage: python3 record.py SOCKET 'show protocols all' > reply.txt"""
import socket, sys, re
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
f = s.makefile('rb')
def reply():
    out = b''
    while True:
        l = f.readline()
        if not l: break
        out += l
        if re.match(rb'^\d{4} ', l): break
    return out
reply()
s.sendall(sys.argv[2].encode() + b'\n')
sys.stdout.buffer.write(reply())
