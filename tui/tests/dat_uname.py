#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR MIT
# dat_uname.py IN OUT UNAME: a copy of trace.dat IN (file version 7) with
# a UNAME option, as trace-cmd record writes one ("sysname nodename
# release machine"): an options section appended, the last section's
# DONE pointed at it.  trace-cmd restore (the fixture's maker) writes
# none, and writing one needs libtracecmd's private output API.
import struct
import sys

src, dst, uname = sys.argv[1], sys.argv[2], sys.argv[3].encode() + b"\0"
d = bytearray(open(src, "rb").read())
assert d[:10] == b"\027\010\104tracing" and d[10:12] == b"7\0", "not a v7 trace.dat"
p = 12 + 1 + 1 + 4                       # version, endian, long size, page size
p = d.index(b"\0", p) + 1                 # compression's name
p = d.index(b"\0", p) + 1                 # and version
off, = struct.unpack_from("<Q", d, p)
while True:                               # the options sections' chain
    sid, flags, strid, size = struct.unpack_from("<HHIQ", d, off)
    q = off + 16
    while True:
        oid, osize = struct.unpack_from("<HI", d, q)
        if oid == 0:                      # DONE: the next section's offset
            done_at = q + 6
            nxt, = struct.unpack_from("<Q", d, done_at)
            break
        q += 6 + osize
    if not nxt:
        break
    off = nxt
new = len(d)
# option ids (trace-cmd.h): DONE 0, UNAME 5
body = struct.pack("<HI", 5, len(uname)) + uname + struct.pack("<HIQ", 0, 8, 0)
d += struct.pack("<HHIQ", 0, 0, strid, len(body)) + body
struct.pack_into("<Q", d, done_at, new)
open(dst, "wb").write(d)
