# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The applier's update against a cluster where another run's transfer comes and goes.

The cluster is a fake (the applier is under test): it answers "Another transfer is in
progress" (17137) while a transfer of another run is, or just was, running.
"""

from __future__ import annotations

from dataclasses import replace

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import OntapError, Relationship
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.snapmirror import Applier, Desired, Step

SRC, DST = "svm_src:vol1", "svm_dst:vol1"


class Cluster:
    """``refusals``: how many update calls are refused with 17137; ``busy_reads``: how many reads after a refusal
    still show the other run's transfer (0: it ended between the refusal and the read)."""

    def __init__(self, refusals, busy_reads):
        self.rel = Relationship(SRC, DST, state="snapmirrored", status="idle", lag_time=600)
        self.refusals = refusals
        self.busy_reads = busy_reads
        self.updates = 0

    def relationships(self, destinations=None):
        if self.busy_reads > 0:
            self.busy_reads -= 1
            return [replace(self.rel, status="transferring")]
        return [self.rel]

    def update(self, rel):
        self.updates += 1
        if self.refusals > 0:
            self.refusals -= 1
            raise OntapError('Another transfer is in progress for "%s".' % DST, code="17137")
        self.rel = replace(self.rel, lag_time=0)


def run(cluster):
    desired = Desired(destination_path=DST, source_path=SRC, relationship_state="snapmirrored", update=True)
    step = Step(desired=desired, rel=cluster.rel, actions=["update"])
    Applier(cluster, wait=True, wait_timeout=30, sleep=lambda s: None).run([step])
    return step


def test_a_transfer_that_ended_before_the_read_does_not_fail_the_update_it_asks_again():
    cluster = Cluster(refusals=1, busy_reads=0)
    step = run(cluster)
    assert step.error is None and step.taken == ["update"]
    assert cluster.updates == 2 and cluster.rel.lag_time == 0


def test_a_transfer_still_running_counts_as_the_update_with_a_warning():
    cluster = Cluster(refusals=1, busy_reads=1)
    step = run(cluster)
    assert step.error is None and cluster.updates == 1
    assert any("already running" in w for w in step.warnings)


def test_endless_refusals_with_nothing_running_fail_with_the_clusters_text():
    cluster = Cluster(refusals=100, busy_reads=0)
    step = run(cluster)
    assert step.error is not None and "Another transfer is in progress" in step.error
    assert cluster.updates < 100
