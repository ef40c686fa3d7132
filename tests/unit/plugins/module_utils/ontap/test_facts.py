# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One vocabulary whatever the transport: REST records and ZAPI snapmirror-info read alike."""

from __future__ import annotations

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import OntapError, parse_duration, split_path
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.rest import relationship_from_record
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.zapi import relationship_from_info


@pytest.mark.parametrize("text,seconds", [
    ("PT1H2M3S", 3723), ("PT45S", 45), ("P1DT2H", 93600), ("PT0S", 0), ("PT1.5S", 1), ("P2D", 172800), (None, None),
])
def test_lag_time_durations(text, seconds):
    assert parse_duration(text) == seconds


def test_bad_duration_is_an_ontap_error():
    with pytest.raises(OntapError, match="duration"):
        parse_duration("1 hour")


@pytest.mark.parametrize("path", ["svm_dst", "svm:vol:x", ":vol", "svm:", "svm:/vol", None])
def test_paths_must_be_svm_colon_volume(path):
    with pytest.raises(OntapError, match="<svm>:<volume>"):
        split_path(path, "destination_path")


def test_rest_and_zapi_broken_off_read_the_same():
    rest = relationship_from_record({
        "uuid": "u1", "source": {"path": "svm_src:v"}, "destination": {"path": "svm_dst:v"}, "state": "broken_off",
        "healthy": True, "lag_time": "PT5M", "policy": {"name": "MirrorAllSnapshots", "type": "async"},
        "transfer": {"state": "success", "end_time": "2026-11-28T07:00:00+00:00", "uuid": "t1"},
        "transfer_schedule": {"name": "hourly"}})
    zapi = relationship_from_info({
        "source-location": "svm_src:v", "destination-location": "svm_dst:v", "mirror-state": "broken-off",
        "relationship-status": "idle", "is-healthy": "true", "lag-time": "300", "policy": "MirrorAllSnapshots",
        "policy-type": "async_mirror", "schedule": "hourly", "relationship-type": "extended_data_protection",
        "last-transfer-end-timestamp": "1795849200", "relationship-id": "u1"})
    for rel in (rest, zapi):
        assert (rel.state, rel.status, rel.healthy, rel.lag_time, rel.policy, rel.policy_type, rel.schedule) == \
            ("broken_off", "idle", True, 300, "MirrorAllSnapshots", "async", "hourly")
        assert rel.last_transfer_end.startswith("2026-11-28T")
        assert rel.transfer_uuid is None
        assert "transfer_uuid" not in rel.facts()


def test_quiesced_reads_paused_on_both_transports():
    rest = relationship_from_record({"source": {"path": "a:b"}, "destination": {"path": "c:d"}, "state": "paused", "lag_time": "PT1M"})
    zapi = relationship_from_info({"source-location": "a:b", "destination-location": "c:d", "mirror-state": "snapmirrored",
                                   "relationship-status": "quiesced"})
    assert (rest.state, rest.status) == (zapi.state, zapi.status) == ("paused", "quiesced")


def test_quiesced_before_the_first_transfer_reads_uninitialized_on_both_transports():
    # REST says paused; without a snapshot (no lag) it was never initialized, and must be before a break
    rest = relationship_from_record({"source": {"path": "a:b"}, "destination": {"path": "c:d"}, "state": "paused"})
    zapi = relationship_from_info({"source-location": "a:b", "destination-location": "c:d", "mirror-state": "uninitialized",
                                   "relationship-status": "quiesced"})
    assert (rest.state, rest.status) == (zapi.state, zapi.status) == ("uninitialized", "quiesced")


def test_paused_with_its_transfer_running_reads_quiescing_on_both_transports():
    rest = relationship_from_record({"source": {"path": "a:b"}, "destination": {"path": "c:d"}, "state": "paused", "lag_time": "PT1M",
                                     "transfer": {"state": "transferring", "uuid": "t1"}})
    zapi = relationship_from_info({"source-location": "a:b", "destination-location": "c:d", "mirror-state": "snapmirrored",
                                   "relationship-status": "quiescing"})
    assert (rest.state, rest.status) == ("paused", "quiescing") and zapi.status == "quiescing"


def test_running_transfer_and_unhealthy_reason():
    rest = relationship_from_record({"source": {"path": "a:b"}, "destination": {"path": "c:d"}, "state": "snapmirrored",
                                     "healthy": False, "unhealthy_reason": [{"message": "Transfer failed.", "code": "13303812"}],
                                     "transfer": {"state": "transferring", "uuid": "t9"}})
    assert (rest.status, rest.busy, rest.healthy, rest.unhealthy_reason, rest.transfer_uuid) == \
        ("transferring", True, False, "Transfer failed.", "t9")
    zapi = relationship_from_info({"source-location": "a:b", "destination-location": "c:d", "mirror-state": "snapmirrored",
                                   "relationship-status": "transferring", "is-healthy": "false",
                                   "unhealthy-reason": "Transfer failed.", "last-transfer-error": "disk full"})
    assert (zapi.status, zapi.busy, zapi.healthy, zapi.last_transfer_error) == ("transferring", True, False, "disk full")


def test_sync_policy_reads_sync():
    zapi = relationship_from_info({"source-location": "a:b", "destination-location": "c:d", "mirror-state": "snapmirrored",
                                   "policy-type": "strict_sync_mirror"})
    assert zapi.policy_type == "sync"
    rest = relationship_from_record({"source": {"path": "a:b"}, "destination": {"path": "c:d"}, "state": "in_sync",
                                     "policy": {"name": "Sync", "type": "sync"}})
    for rel in (zapi, rest):
        assert (rel.state, rel.status) == ("in_sync", "idle")


def test_quiesced_before_the_first_transfer_reads_uninitialized_over_zapi():
    zapi = relationship_from_info({"source-location": "svm_src:vol1", "destination-location": "svm_dst:vol1",
                                   "mirror-state": "uninitialized", "relationship-status": "quiesced"})
    assert (zapi.state, zapi.status) == ("uninitialized", "quiesced")


def test_https_to_a_plain_http_port_does_not_blame_the_certificate():
    import http.server
    import threading
    from ansible_collections.storage.datamotion.plugins.module_utils.ontap.rest import RestClient

    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = RestClient("127.0.0.1", "admin", "x", https=True, validate_certs=False, port=server.server_address[1], timeout=5)
        with pytest.raises(OntapError) as caught:
            client.probe()
    finally:
        server.shutdown()
    assert caught.value.unreachable
    assert "validate_certs" not in caught.value.message and "check https and port" in caught.value.message


@pytest.mark.parametrize("path", ["svm_dst:*", "svm_dst:vol*", "svm_dst:vol?", "svm_dst:a|svm_dst:b", "svm_dst:!vol1", "svm_dst:vol 1"])
def test_a_relationship_path_is_never_a_pattern(path):
    # ONTAP REST reads these as query operators: a path that matched many relationships could name the wrong one
    with pytest.raises(OntapError) as caught:
        split_path(path, "destination_path")
    assert "is not of the form <svm>:<volume>" in caught.value.message


def test_last_transfer_size_and_duration_read_the_same():
    rest = relationship_from_record({"source": {"path": "a:b"}, "destination": {"path": "c:d"}, "state": "snapmirrored",
                                     "transfer": {"state": "success", "bytes_transferred": 4096, "total_duration": "PT1M5S"}})
    zapi = relationship_from_info({"source-location": "a:b", "destination-location": "c:d", "mirror-state": "snapmirrored",
                                   "last-transfer-size": "4096", "last-transfer-duration": "65"})
    assert (rest.last_transfer_size, rest.last_transfer_duration) == (zapi.last_transfer_size, zapi.last_transfer_duration) == (4096, 65)
