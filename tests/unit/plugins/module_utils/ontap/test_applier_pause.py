# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The applier pauses only when a read showed nothing new and nothing was sent since.

The cluster is a fake (the applier is under test) whose quiesce and break take effect at once,
as they do on a cluster with no transfer running: the read right after the requests shows them
done, so a failover of many relationships never sleeps.
"""

from __future__ import annotations

from dataclasses import replace

from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import Relationship
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.snapmirror import Applier, Desired, Step, plan


class Cluster:
    def __init__(self, count, busy_reads=0):
        self.rels = dict(("svm_dst:vol%d" % i, Relationship("svm_src:vol%d" % i, "svm_dst:vol%d" % i, state="snapmirrored"))
                         for i in range(count))
        self.busy_reads = busy_reads   # reads that still show each quiesce running
        self.reads = 0

    def relationships(self, destinations=None):
        self.reads += 1
        if self.busy_reads > 0:
            self.busy_reads -= 1
            return [replace(r, status="quiescing") if r.state == "paused" else r for r in self.rels.values()]
        return list(self.rels.values())

    def quiesce(self, rel):
        self.rels[rel.destination_path] = replace(rel, state="paused", status="quiesced")

    def break_relationship(self, rel):
        self.rels[rel.destination_path] = replace(rel, state="broken_off", status="idle")


def failover(cluster):
    sleeps = []
    steps = []
    for path, rel in sorted(cluster.rels.items()):
        desired = Desired(destination_path=path, relationship_state="broken_off", mount_after_break=False)
        steps.append(Step(desired=desired, rel=rel, actions=plan(desired, rel)))
    Applier(cluster, wait=True, wait_timeout=30, sleep=sleeps.append).run(steps)
    return steps, sleeps


def test_a_failover_whose_steps_take_effect_at_once_reads_without_sleeping():
    cluster = Cluster(3)
    steps, sleeps = failover(cluster)
    assert [s.taken for s in steps] == [["quiesce", "break"]] * 3 and all(s.error is None for s in steps)
    assert sleeps == []
    assert cluster.reads == 2   # one read after the quiesces, one after the breaks


def test_a_read_that_shows_no_progress_is_followed_by_a_growing_pause():
    cluster = Cluster(2, busy_reads=3)
    steps, sleeps = failover(cluster)
    assert all(s.taken == ["quiesce", "break"] and s.error is None for s in steps)
    assert len(sleeps) == 3 and sleeps == sorted(sleeps) and sleeps[0] < sleeps[-1]
