#!/usr/bin/env bash
# patterns.sh NAME DEVICE: write the known pattern of a LUN of the retire_vnx scenario onto its device.
set -euo pipefail
name="$1" dev="$2"
# a loop device keeps a read-only flag (BLKROSET) that an earlier user set
blockdev --setrw "$(readlink -f "$dev")"
put() {  # put SOURCE MiB_OFFSET MiB_COUNT
    head -c $(($3 * 1048576)) "$1" | dd of="$dev" bs=1M seek="$2" conv=notrunc,fsync status=none
}
case "$name" in
    rv_holes)   # never written but for 4 KiB at the start and 1 MiB far out
        head -c 4096 /dev/urandom | dd of="$dev" bs=4096 conv=notrunc,fsync status=none
        put /dev/urandom 700 1 ;;
    rv_zeros)   # 64 MiB of written zeros (allocated on the VNX), then data
        put /dev/zero 0 64
        put /dev/urandom 100 8 ;;
    rv_data)    # three runs of data
        for mib in 0 300 900; do put /dev/urandom "$mib" 16; done ;;
    rv_parts)     # an MBR partition table with two Linux partitions of 256 MiB, data at the start of each
        python3 - "$dev" <<'PY'
import struct, sys
mbr = bytearray(512)
for i, (start, sectors) in enumerate([(2048, 524288), (526336, 524288)]):
    mbr[446 + 16 * i:462 + 16 * i] = struct.pack("<B3sB3sII", 0, b"\xfe\xff\xff", 0x83, b"\xfe\xff\xff", start, sectors)
mbr[510:512] = b"\x55\xaa"
with open(sys.argv[1], "r+b") as f:
    f.write(mbr)
PY
        put /dev/urandom 1 8
        put /dev/urandom 257 8 ;;
    rv_mixed)   # data, written zeros, data in the last MiB
        put /dev/urandom 0 16
        put /dev/zero 16 16
        put /dev/urandom 1023 1 ;;
    rv_thick)   # a thick LUN (all of it allocated on the VNX) that holds 12 MiB of data
        put /dev/urandom 0 8
        put /dev/urandom 512 4 ;;
    rv_rev_src) # the 256 MiB ONTAP LUN moved onto the VNX: data, written zeros, data in its last MiB
        put /dev/urandom 0 4
        put /dev/zero 4 4
        put /dev/urandom 255 1 ;;
esac
sync
