#!/usr/bin/env python3
"""Extract the uncompressed ELF vmlinux from a bzImage, for a PVH boot.

    extract-vmlinux.py VMLINUZ OUT

qemu boots an ELF vmlinux that carries the PVH entry note
(XEN_ELFNOTE_PHYS32_ENTRY, CONFIG_PVH=y) directly, skipping SeaBIOS's
real-mode path and the in-guest decompression of the bzImage: under TCG
that saves about 3 s per boot.  Exit status 1 (OUT untouched) when the
payload cannot be found or has no PVH note; the caller then boots the
bzImage as before.  Handles xz (Debian) and gzip payloads.
"""

import gzip
import lzma
import os
import struct
import sys
import zlib

XEN_ELFNOTE_PHYS32_ENTRY = 18


def payloads(data):
    """Candidate decompressed payloads, tried at each magic number."""
    for magic, decomp in ((b"\xfd7zXZ\x00", "xz"), (b"\x1f\x8b\x08", "gz")):
        off = data.find(magic)
        while off >= 0:
            try:
                if decomp == "xz":
                    out = lzma.LZMADecompressor().decompress(data[off:])
                else:
                    out = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[off:])
                if out[:4] == b"\x7fELF":
                    yield out
            except (lzma.LZMAError, zlib.error, gzip.BadGzipFile, EOFError):
                pass
            off = data.find(magic, off + 1)


def has_pvh_note(elf):
    """True if the ELF64 image has a Xen PHYS32_ENTRY note."""
    if elf[4] != 2:  # ELFCLASS64
        return False
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from(
            "<IIQQQQ", elf, phoff + i * phentsize)
        if p_type != 4:  # PT_NOTE
            continue
        pos, end = p_offset, p_offset + p_filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, pos)
            name = elf[pos + 12:pos + 12 + namesz].rstrip(b"\0")
            if name == b"Xen" and ntype == XEN_ELFNOTE_PHYS32_ENTRY:
                return True
            pos += 12 + (namesz + 3) // 4 * 4 + (descsz + 3) // 4 * 4
    return False


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: extract-vmlinux.py VMLINUZ OUT")
    src, dst = sys.argv[1:]
    with open(src, "rb") as f:
        data = f.read()
    for elf in payloads(data):
        if not has_pvh_note(elf):
            print("extract-vmlinux: %s has no PVH entry note" % src,
                  file=sys.stderr)
            return 1
        tmp = "%s.tmp.%d" % (dst, os.getpid())
        with open(tmp, "wb") as f:
            f.write(elf)
        os.replace(tmp, dst)
        return 0
    print("extract-vmlinux: no ELF payload found in %s" % src, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
