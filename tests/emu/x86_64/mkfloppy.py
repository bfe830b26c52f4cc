#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Build the 1.44 MB boot floppy: boot sector, then the hypervisor image.

Usage: mkfloppy.py OBJCOPY BOOT_ELF HYP_ELF OUT_IMG

Both ELF files become flat binaries (objcopy -O binary); the boot sector
must be exactly 512 bytes and gets the image's sector count patched in at
offset 500 (boot.S: nsect).
"""
import os
import subprocess
import sys
import tempfile

FLOPPY = 1474560
SECTOR = 512
NSECT_OFF = 500


def flat(objcopy: str, elf: str, tmp: str) -> bytes:
    out = os.path.join(tmp, os.path.basename(elf) + ".bin")
    subprocess.run([objcopy, "-O", "binary", elf, out], check=True)
    with open(out, "rb") as f:
        return f.read()


def main() -> int:
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    objcopy, boot_elf, hyp_elf, out = sys.argv[1:]
    with tempfile.TemporaryDirectory() as tmp:
        boot = bytearray(flat(objcopy, boot_elf, tmp))
        hyp = flat(objcopy, hyp_elf, tmp)
    if len(boot) != SECTOR or boot[510:512] != b"\x55\xaa":
        sys.exit(f"{boot_elf}: not a 512-byte boot sector ({len(boot)} bytes)")
    nsect = (len(hyp) + SECTOR - 1) // SECTOR
    if SECTOR * (1 + nsect) > FLOPPY:
        sys.exit(f"{hyp_elf}: {len(hyp)} bytes do not fit a floppy")
    boot[NSECT_OFF:NSECT_OFF + 2] = nsect.to_bytes(2, "little")
    img = bytes(boot) + hyp
    with open(out, "wb") as f:
        f.write(img + bytes(FLOPPY - len(img)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
