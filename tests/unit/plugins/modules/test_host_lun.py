# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_lun's plan -> apply -> report with the host's topology faked (the real
loop-device runs are the host_lun integration target): rescan and wait only when the
device is missing and never for absent, check mode acts on nothing, refusals."""

from __future__ import annotations

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.hostlun import Device
from ansible_collections.storage.datamotion.plugins.modules import host_lun

WWN = "60:06:01:60:12:34:ab:cd:00:00:00:00:00:00:00:01"
HEX = "600601601234abcd0000000000000001"


def loop(**kw):
    base = dict(path="/dev/loop9", links=["/by-id/wwn-0x" + HEX], wwn=HEX, size_bytes=1 << 30,
                logical_block_size=512, read_only=False, holders=[], partitions=[], mounted=False,
                mountpoints=[], kind="loop")
    base.update(kw)
    return Device(**base)


class FakeHost:
    """Finds `device` only after `appears_after` rescans; records what it was asked."""
    device = None
    appears_after = 0

    def __init__(self, by_id_dir):
        self.calls = []
        FakeHost.last = self

    def find(self, wwn):
        assert wwn == HEX
        self.calls.append("find")
        return self.device if self.calls.count("rescan") >= self.appears_after else None

    def rescan(self):
        self.calls.append("rescan")
        return ["host0", "host1"]

    def __getattr__(self, name):          # any acting call is recorded, and would fail the check-mode tests
        def act(*args):
            self.calls.append(name)
        return act


@pytest.fixture
def fake(monkeypatch):
    FakeHost.device, FakeHost.appears_after = None, 0
    monkeypatch.setattr(host_lun, "Host", FakeHost)
    return FakeHost


def test_missing_device_rescans_then_times_out(run_module, fake):
    kind, res = run_module(host_lun, dict(wwn=WWN, timeout=0))
    assert kind == "fail"
    assert "after asking 2 SCSI host(s) to scan" in res["msg"] and HEX in res["msg"]
    assert res["rescanned"] == ["host0", "host1"] and res["changed"] is False


def test_found_after_rescan(run_module, fake):
    fake.device, fake.appears_after = loop(), 1
    kind, res = run_module(host_lun, dict(wwn=WWN, timeout=5))
    assert kind == "exit", res
    assert res["device"]["path"] == "/dev/loop9" and res["rescanned"] == ["host0", "host1"]
    assert res["changed"] is False


def test_no_rescan_when_asked_not_to(run_module, fake):
    kind, res = run_module(host_lun, dict(wwn=WWN, rescan=False, wait=False))
    assert kind == "fail" and "without a SCSI rescan, looking once" in res["msg"]
    assert "rescan" not in fake.last.calls


def test_absent_never_rescans(run_module, fake):
    fake.appears_after = 1
    fake.device = loop()
    kind, res = run_module(host_lun, dict(wwn=WWN, state="absent"))
    assert kind == "exit" and res["changed"] is False and res["device"] is None
    assert fake.last.calls == ["find"]


def test_absent_check_mode_acts_on_nothing(run_module, fake):
    fake.device = loop()
    kind, res = run_module(host_lun, dict(wwn=WWN, state="absent"), check_mode=True, diff=True)
    assert kind == "exit", res
    assert res["changed"] is True
    assert res["actions"] == ["flush /dev/loop9", "detach loop device /dev/loop9", "remove link /by-id/wwn-0x" + HEX]
    assert res["diff"] == {"before": {"present": True, "path": "/dev/loop9", "read_only": {"/dev/loop9": False}},
                           "after": {"present": False}}
    assert fake.last.calls == ["find"]


def test_read_only_check_mode_predicts(run_module, fake):
    fake.device = loop()
    kind, res = run_module(host_lun, dict(wwn=WWN, state="read_only"), check_mode=True)
    assert kind == "exit", res
    assert res["actions"] == ["set /dev/loop9 read-only"] and res["device"]["read_only"] is True
    assert fake.last.calls == ["find"]


def test_absent_refuses_held_open_device(run_module, fake):
    fake.device = loop(open_by=[4242])
    kind, res = run_module(host_lun, dict(wwn=WWN, state="absent"))
    assert kind == "fail" and "processes 4242 have it open" in res["msg"]
    assert fake.last.calls == ["find"]


def test_bad_wwn_is_refused_before_looking(run_module, fake):
    kind, res = run_module(host_lun, dict(wwn="60:06:zz"))
    assert kind == "fail" and "wwn '60:06:zz' is not a WWN" in res["msg"]
