# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ontap_snapmirror_info: the replication summary data motion reports."""

from __future__ import annotations

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import Relationship
from ansible_collections.storage.datamotion.plugins.modules import ontap_snapmirror_info
from ansible_collections.storage.datamotion.plugins.modules.ontap_snapmirror_info import replication_summary


def rel(dst, state="snapmirrored", lag=10, healthy=True, policy_type="async"):
    return Relationship("svm_src:" + dst.split(":")[1], dst, state=state, lag_time=lag, healthy=healthy, policy_type=policy_type)


def test_summary_of_a_backend():
    rels = [rel("svm_dst:a", lag=30), rel("svm_dst:b", lag=None, state="uninitialized"), rel("svm_dr:c", lag=700, healthy=False)]
    assert replication_summary(rels) == dict(
        replication_enabled=True, replication_count=3, replication_targets=["svm_dr", "svm_dst"], replication_type="async",
        worst_lag=700, unhealthy=["svm_dr:c"], states={"snapmirrored": 2, "uninitialized": 1})


def test_summary_without_relationships_and_mixed_types():
    assert replication_summary([]) == dict(replication_enabled=False, replication_count=0, replication_targets=[],
                                           replication_type=None, worst_lag=None, unhealthy=[], states={})
    assert replication_summary([rel("s:a"), rel("s:b", policy_type="sync")])["replication_type"] == "mixed"


@pytest.mark.parametrize("use_rest", ["always", "never"])
@pytest.mark.parametrize("pattern", ["svm_src:a|svm_src:b", "svm_src:vol[12]", "svm_src:vol?", "svm_src:!vol1", "svm_src:a,b", ""])
def test_filters_other_than_star_are_refused_on_both_transports(run_module, use_rest, pattern):
    # REST read | and ! as query operators, ZAPI's fnmatch read ? and [..]: the same task answered differently
    how, result = run_module(ontap_snapmirror_info, dict(hostname="127.0.0.1", port=1, username="admin", password="x",
                                                         use_rest=use_rest, source_path=pattern))
    assert how == "fail" and "* as the wildcard" in result["msg"]
