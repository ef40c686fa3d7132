# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sparse_volume_copy module, run through main() on real files."""

from __future__ import annotations

import errno
import hashlib
import os

import pytest

from ansible_collections.storage.datamotion.plugins.modules import sparse_volume_copy

KIB = 1024

RESULT_KEYS = {
    "changed", "src", "dest", "src_type", "dest_type", "bytes_total", "bytes_written",
    "bytes_zeroed", "bytes_skipped_zero", "bytes_skipped_hole", "bytes_unchanged",
    "sparse", "sparse_reason", "zero_method", "dest_created", "dest_allocated_before",
    "dest_allocated_after", "duration", "throughput_mib_s", "verified", "digest",
}


@pytest.fixture
def image(tmp_path):
    """A 1 MiB + 100 byte source: 64 KiB data, 64 KiB written zeros, holes, a data tail."""
    src = tmp_path / "src.img"
    data1 = bytes((i * 7 + 1) % 251 + 1 for i in range(64 * KIB))
    tail = b"tail" * 25
    with open(src, "wb") as f:
        f.write(data1)
        f.write(bytes(64 * KIB))
        f.seek(1024 * KIB)
        f.write(tail)
    content = data1 + bytes(64 * KIB) + bytes(1024 * KIB - 128 * KIB) + tail
    assert os.path.getsize(src) == len(content)
    return src, content


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_copy_then_idempotent(run_module, tmp_path, image):
    src, content = image
    dest = tmp_path / "dest.img"
    kind, res = run_module(sparse_volume_copy, dict(src=str(src), dest=str(dest)))
    assert kind == "exit", res
    assert RESULT_KEYS <= set(res), RESULT_KEYS - set(res)
    assert res["changed"] is True and res["dest_created"] is True
    assert res["bytes_total"] == len(content)
    assert res["bytes_written"] == 64 * KIB + 100  # the data and the (partial) tail block
    assert (res["bytes_written"] + res["bytes_unchanged"] + res["bytes_skipped_zero"]
            + res["bytes_skipped_hole"]) == res["bytes_total"]
    assert dest.read_bytes() == content
    assert os.stat(dest).st_blocks * 512 <= 68 * KIB + 16 * KIB

    kind, res = run_module(sparse_volume_copy, dict(src=str(src), dest=str(dest)))
    assert kind == "exit", res
    assert res["changed"] is False
    assert res["bytes_written"] == 0 and res["bytes_zeroed"] == 0


def test_check_mode_creates_nothing(run_module, tmp_path, image):
    src, content = image
    dest = tmp_path / "dest.img"
    kind, res = run_module(sparse_volume_copy, dict(src=str(src), dest=str(dest)), check_mode=True)
    assert kind == "exit", res
    assert res["changed"] is True
    assert res["bytes_written"] == 64 * KIB + 100
    assert not dest.exists()


def test_check_mode_on_dirty_dest_modifies_nothing(run_module, tmp_path, image):
    src, content = image
    dest = tmp_path / "dest.img"
    dest.write_bytes(os.urandom(len(content)))
    os.utime(dest, ns=(10**18, 10**18))
    before = sha(dest), os.stat(dest).st_mtime_ns
    kind, res = run_module(sparse_volume_copy, dict(src=str(src), dest=str(dest)), check_mode=True, diff=True)
    assert kind == "exit", res
    assert res["changed"] is True and res["bytes_zeroed"] > 0
    assert (sha(dest), os.stat(dest).st_mtime_ns) == before
    assert "diff" in res


def test_diff(run_module, tmp_path, image):
    src, content = image
    dest = tmp_path / "dest.img"
    kind, res = run_module(sparse_volume_copy, dict(src=str(src), dest=str(dest)), diff=True)
    assert kind == "exit", res
    diff = res["diff"]
    assert set(diff) >= {"before", "after"}
    assert diff["before"] != diff["after"]
    assert diff["before"]["exists"] is False and diff["after"]["exists"] is True
    assert diff["after"]["equals_source"] is True

    kind, res = run_module(sparse_volume_copy, dict(src=str(src), dest=str(dest)), diff=True)
    assert kind == "exit" and res["changed"] is False
    assert res["diff"]["before"] == res["diff"]["after"]


def test_no_diff_unless_asked(run_module, tmp_path, image):
    src = image[0]
    kind, res = run_module(sparse_volume_copy, dict(src=str(src), dest=str(tmp_path / "d.img")))
    assert kind == "exit" and "diff" not in res


@pytest.mark.parametrize("value", ["maybe", "2", "yesno", ["true"]])
def test_bad_dest_zeroed(run_module, tmp_path, image, value):
    src = image[0]
    dest = tmp_path / "dest.img"
    kind, res = run_module(sparse_volume_copy, dict(src=str(src), dest=str(dest), dest_zeroed=value))
    assert kind == "fail", res
    assert "dest_zeroed" in res["msg"]
    assert not dest.exists()


@pytest.mark.parametrize("value", ["auto", "AUTO", True, False, "true", "false", "yes", "no", 1, 0])
def test_good_dest_zeroed(run_module, tmp_path, image, value):
    src, content = image
    dest = tmp_path / "dest.img"
    kind, res = run_module(sparse_volume_copy, dict(src=str(src), dest=str(dest), dest_zeroed=value))
    assert kind == "exit", res
    assert dest.read_bytes() == content


def test_dest_zeroed_true_on_dirty_file(run_module, tmp_path, image):
    """Documented: a file shows its allocation, so the promise is checked and the
    allocated zero ranges are zeroed anyway; no old data survives."""
    src, content = image
    dest = tmp_path / "dest.img"
    dest.write_bytes(os.urandom(len(content)))
    kind, res = run_module(sparse_volume_copy, dict(src=str(src), dest=str(dest), dest_zeroed=True))
    assert kind == "exit", res
    assert res["bytes_zeroed"] > 0
    assert dest.read_bytes() == content


@pytest.mark.parametrize("args, words", [
    (dict(sparse="sometimes"), "sparse"),
    (dict(zero_method="magic"), "zero_method"),
    (dict(block_size="big"), "block_size"),
    (dict(block_size=1000), "block_size"),
    (dict(zero_block_size=100), "zero_block_size"),
    (dict(verify="perhaps"), "verify"),
    (dict(verify=True, verify_source=False), "verify_source=false needs a source that nothing can write"),
    (dict(bogus=1), "bogus"),
])
def test_bad_option_values(run_module, tmp_path, image, args, words):
    src = image[0]
    dest = tmp_path / "dest.img"
    kind, res = run_module(sparse_volume_copy, dict(dict(src=str(src), dest=str(dest)), **args))
    assert kind == "fail", res
    assert words in res["msg"], res["msg"]
    assert not dest.exists()


def test_missing_required(run_module, tmp_path):
    kind, res = run_module(sparse_volume_copy, dict(src=str(tmp_path / "x")))
    assert kind == "fail" and "dest" in res["msg"]


def test_missing_source(run_module, tmp_path):
    src = tmp_path / "missing.img"
    dest = tmp_path / "dest.img"
    kind, res = run_module(sparse_volume_copy, dict(src=str(src), dest=str(dest)))
    assert kind == "fail", res
    assert str(src) in res["msg"] and "does not exist" in res["msg"]
    assert "Traceback" not in res["msg"]
    assert not dest.exists()


def test_same_file_fails(run_module, tmp_path, image):
    src, content = image
    kind, res = run_module(sparse_volume_copy, dict(src=str(src), dest=str(src)))
    assert kind == "fail" and "same" in res["msg"]
    assert src.read_bytes() == content


def test_create_false(run_module, tmp_path, image):
    src = image[0]
    dest = tmp_path / "dest.img"
    kind, res = run_module(sparse_volume_copy, dict(src=str(src), dest=str(dest), create=False))
    assert kind == "fail" and "create" in res["msg"]
    assert not dest.exists()


def test_verify_and_options(run_module, tmp_path, image):
    src, content = image
    dest = tmp_path / "dest.img"
    dest.write_bytes(os.urandom(2 * len(content)))
    kind, res = run_module(sparse_volume_copy, dict(
        src=str(src), dest=str(dest), verify=True, block_size=65536, zero_block_size=4096,
        zero_method="write", sparse="auto"))
    assert kind == "exit", res
    assert res["verified"] is True and res["digest"].startswith("sparse-sha256:")
    assert res["zero_method"] == "write"
    assert dest.read_bytes() == content


def test_sparse_never(run_module, tmp_path, image):
    src, content = image
    dest = tmp_path / "dest.img"
    kind, res = run_module(sparse_volume_copy, dict(src=str(src), dest=str(dest), sparse="never"))
    assert kind == "exit", res
    assert res["sparse"] is False and res["bytes_written"] == len(content)
    assert dest.read_bytes() == content
    assert os.stat(dest).st_blocks * 512 >= len(content) // 4096 * 4096


def test_path_expansion(run_module, tmp_path, image, monkeypatch):
    """type=path options expand ~ and variables."""
    src, content = image
    monkeypatch.setenv("HOME", str(tmp_path))
    kind, res = run_module(sparse_volume_copy, dict(src="~/src.img", dest="~/copy.img"))
    assert kind == "exit", res
    assert (tmp_path / "copy.img").read_bytes() == content


@pytest.mark.parametrize("which", ["src", "dest"])
def test_empty_path_is_named(run_module, tmp_path, image, which):
    args = dict(src=str(image[0]), dest=str(tmp_path / "dest.img"))
    args[which] = ""
    kind, res = run_module(sparse_volume_copy, args)
    assert kind == "fail", res
    assert res["msg"].startswith("%s is empty" % which), res["msg"]
    assert res["changed"] is False
    assert not (tmp_path / "dest.img").exists()


def test_failure_after_writing_reports_changed(run_module, tmp_path, image, monkeypatch):
    """A run that created the destination and then failed says it changed something."""
    real = os.pwrite
    calls = []

    def pwrite(fd, data, offset):
        calls.append(offset)
        if len(calls) > 1:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data, offset)
    monkeypatch.setattr(os, "pwrite", pwrite)
    dest = tmp_path / "dest.img"
    kind, res = run_module(sparse_volume_copy, dict(src=str(image[0]), dest=str(dest), block_size=4096))
    assert kind == "fail", res
    assert res["changed"] is True and dest.exists()
    assert "space" in res["msg"] and "free" in res["msg"]


def test_refusal_reports_unchanged(run_module, tmp_path, image):
    kind, res = run_module(sparse_volume_copy, dict(src=str(image[0]), dest=str(image[0])))
    assert kind == "fail" and res["changed"] is False


def test_diff_after_releasing_allocation_only_says_equal(run_module, tmp_path, image):
    """The destination already held the source's bytes, with its holes as allocated
    zeros: the copy only releases them, so its content was equal before."""
    src, content = image
    dest = tmp_path / "dest.img"
    dest.write_bytes(content)
    kind, res = run_module(sparse_volume_copy, dict(src=str(src), dest=str(dest)), diff=True)
    assert kind == "exit", res
    assert res["changed"] is True and res["bytes_released"] > 0 and res["bytes_written"] == 0
    assert res["diff"]["before"]["equals_source"] is True
    assert res["diff"]["before"]["allocated"] > res["diff"]["after"]["allocated"]


def test_diff_never_claims_equality_that_was_not_read():
    """dest_zeroed=true skipped the zero ranges unread: no equality is claimed for
    them, before or after, unless verify read them back."""
    res = dict(dest="/dev/sdx", dest_created=False, dest_allocated_before=None, dest_allocated_after=None,
               zero_ranges_trusted=True, verified=False)
    diff = sparse_volume_copy.diff_of(res, content_changed=False)
    assert diff["before"]["equals_source"] == diff["after"]["equals_source"] == sparse_volume_copy.UNREAD
    diff = sparse_volume_copy.diff_of(dict(res, verified=True), content_changed=True)
    assert diff["before"]["equals_source"] is False and diff["after"]["equals_source"] is True


def test_lock_timeout_must_not_be_negative(run_module, tmp_path, image):
    src, _content = image
    kind, res = run_module(sparse_volume_copy, dict(src=str(src), dest=str(tmp_path / "d.img"), lock_timeout=-1))
    assert kind == "fail" and "lock_timeout" in res["msg"]
