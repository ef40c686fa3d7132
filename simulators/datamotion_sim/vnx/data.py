# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bytes behind the simulated array: sparse backing files, copies that keep holes,
and exposure on this machine as loop devices with WWN links."""

import errno
import os

COPY_CHUNK = 64 * 1024 * 1024


def create(path, size):
    """A new, all-holes file of ``size`` bytes (replacing any old one)."""
    tmp = path + '.new'
    with open(tmp, 'wb') as f:
        f.truncate(size)
    os.replace(tmp, path)


def resize(path, size):
    os.truncate(path, size)


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def allocated(path):
    """Bytes the file really occupies."""
    try:
        return os.stat(path).st_blocks * 512
    except FileNotFoundError:
        return 0


def inode(path):
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None


def size(path):
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return None


def data_extents(fd, end):
    """(offset, length) of the data in the first ``end`` bytes of ``fd``."""
    pos = 0
    while pos < end:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:
                return
            raise
        if start >= end:
            return
        stop = min(os.lseek(fd, start, os.SEEK_HOLE), end)
        yield start, stop - start
        pos = stop


def copy(src, dst, size):
    """Write ``dst`` anew as a copy of the first ``size`` bytes of ``src`` (holes stay holes;
    ``dst`` is ``size`` long whatever ``src``'s length). Replaces ``dst`` atomically."""
    tmp = dst + '.new'
    with open(src, 'rb') as fin, open(tmp, 'wb') as fout:
        fout.truncate(size)
        src_fd, dst_fd = fin.fileno(), fout.fileno()
        end = min(size, os.fstat(src_fd).st_size)
        for offset, length in data_extents(src_fd, end):
            done = 0
            while done < length:
                n = os.copy_file_range(src_fd, dst_fd, min(COPY_CHUNK, length - done), offset + done, offset + done)
                if n == 0:
                    break
                done += n
    os.replace(tmp, dst)


def loops_work():
    return os.geteuid() == 0 and os.path.exists('/dev/loop-control')


def loop_attach(path):
    """A loop device over ``path``, or None where that is not possible."""
    if not loops_work():
        return None
    import subprocess  # only exposure needs it; naviseccli-sim starts faster without
    proc = subprocess.run(['losetup', '--find', '--show', path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        return None
    device = proc.stdout.decode().strip() or None
    if device:
        # a loop device keeps the read-only flag a host set on it (blockdev --setro) after it is detached:
        # a new exposure starts read-write, as a new LUN path on a host would
        subprocess.run(['blockdev', '--setrw', device], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return device


def loop_refresh(device):
    """The loop device takes its file's new size."""
    import subprocess
    subprocess.run(['losetup', '--set-capacity', device], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def loop_detach(device):
    import subprocess
    subprocess.run(['losetup', '--detach', device], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def loop_backings():
    """{loop device: its backing file} for every bound loop device, as the kernel says."""
    try:
        names = os.listdir('/sys/block')
    except OSError:
        return {}
    found = {}
    for name in sorted(names):
        try:
            with open(os.path.join('/sys/block', name, 'loop', 'backing_file')) as f:
                found['/dev/' + name] = f.read().strip()
        except OSError:
            continue
    return found


def backs(device, path):
    """Whether loop device ``device`` is attached to the file ``path`` (or to that path's
    file after it was replaced, which the kernel shows with a " (deleted)" suffix)."""
    backing = loop_backings().get(device)
    if backing is None:
        return False
    if backing.endswith(' (deleted)'):
        backing = backing[:-len(' (deleted)')]
    return backing == os.path.realpath(path)


def loops_over(root):
    """Loop devices whose backing file is under directory ``root``."""
    prefix = os.path.join(os.path.realpath(root), '')
    return [device for device, backing in loop_backings().items() if backing.startswith(prefix)]


def in_a_loop(path):
    """Whether a loop device still writes to ``path`` (one detached while open lingers)."""
    path = os.path.realpath(path)
    return any(backing == path for backing in loop_backings().values())


def wwn_link_name(wwn):
    return 'wwn-0x' + wwn.replace(':', '').lower()


def link(device_dir, wwn, target):
    os.makedirs(device_dir, exist_ok=True)
    path = os.path.join(device_dir, wwn_link_name(wwn))
    tmp = path + '.new'
    remove(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, path)
    return path


def unlink(device_dir, wwn):
    remove(os.path.join(device_dir, wwn_link_name(wwn)))
