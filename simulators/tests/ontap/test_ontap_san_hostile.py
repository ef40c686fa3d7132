# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ontap-sim SAN against the inputs and sequences a careless or hostile administrator brings (requests and netapp-lib)."""

import subprocess
import tempfile

import pytest

from ontap_helpers import Sim, invoke, naserver, rest, zapi_volume
from test_ontap_san import err, ok, post_lun, volume, zerr

MIB = 1024 ** 2
HOST = "iqn.2026-01.io.datamotion.test:this-host"


@pytest.fixture(scope="module")
def san_sim():
    server = Sim("--host-initiator", HOST, "--state-dir", tempfile.mkdtemp(prefix="ontap-san-hostile-"))
    yield server
    assert server.stop() == 0


@pytest.fixture(autouse=True)
def fresh(san_sim):
    san_sim.reset()


BAD_NAMES = ["a b", "\u00e9t\u00e9", "x" * 256, "a*", "a|b", "!a", ""]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_rest_refuses_a_lun_name_ontap_refuses(san_sim, name):
    volume(san_sim, "names")
    err(post_lun(san_sim, "/vol/names/%s" % name), 400, "2")
    assert ok(rest("GET", san_sim.dst, "/api/storage/luns"))["num_records"] == 0


@pytest.mark.parametrize("name", BAD_NAMES)
def test_zapi_refuses_a_lun_name_ontap_refuses(san_sim, name):
    server = naserver(san_sim.dst, "svm_dst")
    zapi_volume(server, "znames", "1g")
    assert zerr(invoke, server, "lun-create-by-size", path="/vol/znames/%s" % name, size=str(MIB), ostype="linux") == "13115"


def test_good_names_are_taken(san_sim):
    volume(san_sim, "names")
    for name in ("lun_0", "db-01.data", "{backup}", "x" * 255):
        ok(post_lun(san_sim, "/vol/names/%s" % name))


def test_a_remapped_lun_comes_back_writable_with_its_bytes(san_sim):
    # a loop device keeps BLKROSET across a detach: a LUN attached to a device left read-only must still be writable
    volume(san_sim, "ro")
    ok(post_lun(san_sim, "/vol/ro/l"))
    igroup = {"svm": {"name": "svm_dst"}, "name": "me", "protocol": "iscsi", "os_type": "linux", "initiators": [{"name": HOST}]}
    ok(rest("POST", san_sim.dst, "/api/protocols/san/igroups", json=igroup))
    mapping = {"svm": {"name": "svm_dst"}, "lun": {"name": "/vol/ro/l"}, "igroup": {"name": "me"}}
    ok(rest("POST", san_sim.dst, "/api/protocols/san/lun-maps", json=mapping))
    device = san_sim.state()["dst"]["san"]["luns"]["/vol/ro/l"]["device"]
    with open(device, "r+b") as handle:
        handle.seek(MIB)
        handle.write(b"kept" * 1024)
    subprocess.run(["blockdev", "--setro", device], check=True)
    lun = ok(rest("GET", san_sim.dst, "/api/storage/luns", params={"name": "/vol/ro/l"}))["records"][0]["uuid"]
    ig = ok(rest("GET", san_sim.dst, "/api/protocols/san/igroups", params={"name": "me"}))["records"][0]["uuid"]
    ok(rest("DELETE", san_sim.dst, "/api/protocols/san/lun-maps/%s/%s" % (lun, ig)))
    ok(rest("POST", san_sim.dst, "/api/protocols/san/lun-maps", json=mapping))
    device = san_sim.state()["dst"]["san"]["luns"]["/vol/ro/l"]["device"]
    assert subprocess.run(["blockdev", "--getro", device], capture_output=True, text=True, check=True).stdout.strip() == "0"
    with open(device, "r+b") as handle:
        handle.seek(MIB)
        assert handle.read(4096) == b"kept" * 1024
        handle.seek(0)
        handle.write(b"again")
