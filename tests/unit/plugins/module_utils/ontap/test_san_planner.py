# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure planners of ontap_lun and ontap_lun_map: what they do, and what they refuse before anything changes."""

from __future__ import annotations

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import OntapError
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.san import (
    OWNER_COMMENT, Igroup, Lun, LunMap, LunVolume, lun_path, lun_size, parse_size, plan_lun, plan_map,
)

MIB = 1024 ** 2
GIB = 1024 ** 3
PATH = "/vol/v1/l1"
HOST = "iqn.2026-01.io.example:host1"
OTHER = "iqn.2026-01.io.example:host2"


def want(**kw):
    base = dict(svm="svm1", volume="v1", path=PATH, state="present", size=64 * MIB, os_type="linux", space_reserve=False,
                aggregate=None)
    base.update(kw)
    return base


def lun(**kw):
    base = dict(svm="svm1", path=PATH, size=64 * MIB, os_type="linux", space_reserve=False, comment=OWNER_COMMENT)
    base.update(kw)
    return Lun(**base)


VOL = LunVolume(svm="svm1", name="v1", type="rw", size=GIB, available=int(GIB * 0.95))


def test_create_in_existing_volume():
    assert plan_lun(want(), None, VOL) == [("create", 64 * MIB)]


def test_create_volume_on_the_fly():
    assert plan_lun(want(), None, None, dict(size=GIB, aggregate="aggr1"), 10 * GIB) == [("create_volume", GIB), ("create", 64 * MIB)]


def test_nothing_to_do_and_grow_and_reserve():
    assert plan_lun(want(), lun(), None) == []
    assert plan_lun(want(size=None), lun(), None) == []
    assert plan_lun(want(size=128 * MIB, space_reserve=True), lun(), None) == [("set_space_reserve", True), ("resize", 128 * MIB)]
    assert plan_lun(want(space_reserve=None, os_type=None), lun(space_reserve=True), None) == []


def test_absent():
    assert plan_lun(want(state="absent"), None, None) == []
    assert plan_lun(want(state="absent"), lun(), None) == [("delete", PATH)]


@pytest.mark.parametrize("case, args, text", [
    ("shrink", (want(size=32 * MIB), lun(), None), "shrinking"),
    ("unrelated name", (want(), lun(comment="db team"), None), "did not create"),
    ("unrelated delete", (want(state="absent"), lun(comment=""), None), "not created by this collection"),
    ("mapped delete", (want(state="absent"), lun(mapped=True), None), "unmap it first"),
    ("os type", (want(os_type="windows"), lun(), None), "cannot change"),
    ("volume missing", (want(), None, None), "does not exist"),
    ("aggregate missing", (want(), None, None, dict(size=GIB, aggregate="nope"), None), "aggregate nope does not exist"),
    ("aggregate full", (want(), None, None, dict(size=GIB, aggregate="small"), MIB), "not enough for volume"),
    ("thick too big", (want(size=2 * GIB, space_reserve=True), None, VOL), "space-reserved"),
    ("dp volume", (want(), None, LunVolume(svm="svm1", name="v1", type="dp", size=GIB, available=GIB)), "read-only"),
    ("no size", (want(size=None), None, VOL), "give its size"),
])
def test_refusals(case, args, text):
    with pytest.raises(OntapError) as caught:
        plan_lun(*args)
    assert text in str(caught.value), case


def test_sizes_and_paths():
    assert parse_size("64MiB") == 64 * MIB and parse_size("1g") == GIB and parse_size(4096) == 4096 and parse_size("1.5k") == 1536
    for bad in ("ten", "10 parsecs", "", "-1g"):
        with pytest.raises(OntapError):
            parse_size(bad)
    assert lun_path("v1", "l1") == PATH
    with pytest.raises(OntapError):
        lun_path("v1", "a/b")


def test_naa_is_netapp_prefix_and_serial_hex():
    assert lun(serial="wf0Iq+N4uck3").naa == "600a0980" + "wf0Iq+N4uck3".encode().hex()
    assert lun(serial="wf0Iq+N4uck3").facts()["wwn_link"].startswith("wwn-0x600a0980")


def mwant(**kw):
    base = dict(svm="svm1", path=PATH, igroup="host1", initiators=[HOST], protocol="iscsi", os_type="linux", lun_id=None,
                state="present")
    base.update(kw)
    return base


IG = Igroup(svm="svm1", name="host1", protocol="iscsi", os_type="linux", initiators=[HOST])


def test_map_creates_igroup_then_maps():
    assert plan_map(mwant(), lun(), None, [], []) == [("create_igroup", [HOST]), ("map", None)]
    assert plan_map(mwant(lun_id=3), lun(), IG, [LunMap("svm1", "/vol/v1/other", "host1", 0)], [IG]) == [("map", 3)]


def test_map_converges_and_unmaps():
    mapped = [LunMap("svm1", PATH, "host1", 2)]
    assert plan_map(mwant(), lun(), IG, mapped, [IG]) == []
    assert plan_map(mwant(lun_id=2), lun(), IG, mapped, [IG]) == []
    assert plan_map(mwant(state="absent"), lun(), IG, mapped, [IG]) == [("unmap", "host1")]
    assert plan_map(mwant(state="absent"), lun(), IG, [], [IG]) == []
    assert plan_map(mwant(state="absent"), lun(), None, [], []) == []


def test_map_adds_missing_initiators():
    second = "iqn.2026-01.io.example:host1-b"
    assert plan_map(mwant(initiators=[HOST, second]), lun(), IG, [], [IG]) == [("add_initiators", [second]), ("map", None)]
    # a second port of a host that the igroup already holds sees the host's own LUNs
    mapped = [LunMap("svm1", "/vol/v1/other", "host1", 0)]
    assert plan_map(mwant(initiators=[HOST, second]), lun(), IG, mapped, [IG]) == [("add_initiators", [second]), ("map", None)]
    # an empty igroup with nothing mapped is the host's to take
    empty = Igroup("svm1", "host1", "iscsi", "linux", [])
    assert plan_map(mwant(), lun(), empty, [], [empty]) == [("add_initiators", [HOST]), ("map", None)]


@pytest.mark.parametrize("case, args, text", [
    ("another host's igroup", (mwant(), lun(), Igroup("svm1", "host1", "iscsi", "linux", [HOST, OTHER]), [], []), "another host"),
    ("lun id in use", (mwant(lun_id=0), lun(), IG, [LunMap("svm1", "/vol/v1/x", "host1", 0)], [IG]), "LUN ID 0 is used"),
    ("mapped elsewhere", (mwant(lun_id=5), lun(), IG, [LunMap("svm1", PATH, "host1", 1)], [IG]), "already mapped"),
    ("os conflict", (mwant(), lun(), None, [], [Igroup("svm1", "win", "iscsi", "windows", [HOST])]), "different OS types"),
    ("os mismatch", (mwant(os_type="vmware"), lun(), IG, [], [IG]), "left as it is"),
    ("no initiators", (mwant(initiators=[]), lun(), None, [], []), "give its initiators"),
    # issue 19, finding 9: an igroup without initiators that another team's LUNs are mapped to
    ("empty igroup with others' LUNs", (mwant(), lun(), Igroup("svm1", "host1", "iscsi", "linux", []),
                                        [LunMap("svm1", "/vol/team/db", "host1", 0)], []),
     "igroup host1 holds no initiator of this host, but LUN(s) /vol/team/db are mapped to it"),
    ("bad initiator", (mwant(initiators=["host1"]), lun(), None, [], []), "not a valid iscsi initiator"),
])
def test_map_refusals(case, args, text):
    with pytest.raises(OntapError) as caught:
        plan_map(*args)
    assert text in str(caught.value), case


def test_lun_size_rounds_up_to_whole_sectors_as_ontap_does():
    # ONTAP makes a LUN of 5000 bytes 5120 bytes long; a re-run with the same size must not read as a shrink
    assert lun_size("5000") == 5120 and lun_size("1.3m") == 1363456 and lun_size("4KiB") == 4096
    assert plan_lun(want(size=lun_size("5000")), lun(size=5120), None) == []


@pytest.mark.parametrize("volume, name", [("v1", "a b"), ("v1", "\u00e9t\u00e9"), ("v1", "x" * 256), ("v1", "a*"), ("v1", "a|b"),
                                          ("new v", "l1"), ("1vol", "l1"), ("vol-1", "l1"), ("v" * 204, "l1")])
def test_names_ontap_refuses_are_refused_before_anything_is_read(volume, name):
    with pytest.raises(OntapError) as caught:
        lun_path(volume, name)
    assert "name" in str(caught.value)


def test_names_ontap_takes():
    assert lun_path("_v1", "db-01.data{0}") == "/vol/_v1/db-01.data{0}"
    assert lun_path("v" * 203, "x" * 255) == "/vol/%s/%s" % ("v" * 203, "x" * 255)


@pytest.mark.parametrize("case, args", [
    ("grow a thick LUN past the volume", (want(size=2 * GIB, space_reserve=None), lun(size=512 * MIB, space_reserve=True), VOL)),
    ("reserve a thin LUN the volume cannot hold", (want(size=None, space_reserve=True), lun(size=2 * GIB, used=MIB), VOL)),
    ("reserve and grow", (want(size=GIB, space_reserve=True), lun(size=512 * MIB, used=0), VOL)),
])
def test_an_existing_lun_that_would_outgrow_its_volume_is_refused_in_the_plan(case, args):
    # the volume VOL has 0.95 GiB free; check mode must predict the cluster's "not enough space"
    with pytest.raises(OntapError) as caught:
        plan_lun(*args)
    assert "not enough" in str(caught.value), case


def test_an_existing_lun_that_fits_grows_and_reserves():
    full = LunVolume(svm="svm1", name="v1", type="rw", size=GIB, available=100 * MIB)
    assert plan_lun(want(size=128 * MIB, space_reserve=None), lun(space_reserve=True), full) == [("resize", 128 * MIB)]
    assert plan_lun(want(size=None, space_reserve=True), lun(used=10 * MIB), full) == [("set_space_reserve", True)]
    assert plan_lun(want(size=10 * GIB, space_reserve=False), lun(), full) == [("resize", 10 * GIB)]


def test_unmap_from_an_igroup_that_also_serves_another_host_is_refused():
    # cutting another host's path to a LUN is not this collection's call: only an igroup of the declared initiators is unmapped
    shared = Igroup("svm1", "host1", "iscsi", "linux", [HOST, OTHER])
    with pytest.raises(OntapError) as caught:
        plan_map(mwant(state="absent"), lun(), shared, [LunMap("svm1", PATH, "host1", 2)], [shared])
    assert "another host" in str(caught.value)
    with pytest.raises(OntapError):
        plan_map(mwant(state="absent", initiators=[]), lun(), IG, [LunMap("svm1", PATH, "host1", 2)], [IG])
    assert plan_map(mwant(state="absent", initiators=[HOST, OTHER]), lun(), shared, [LunMap("svm1", PATH, "host1", 2)], [shared]) == [
        ("unmap", "host1")]


@pytest.mark.parametrize("name", ["bad name", "\u00e9", "g" * 97, "1abc", "a/b", ""])
def test_igroup_names_ontap_refuses_are_refused(name):
    with pytest.raises(OntapError) as caught:
        plan_map(mwant(igroup=name), lun(), None, [], [])
    assert "igroup name" in str(caught.value)
