# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""wait_for: returns as soon as done, never overruns its budget, reports the last state."""

from __future__ import annotations

import pytest

from ansible_collections.storage.datamotion.plugins.module_utils.wait import WaitTimeout, wait_for


class FakeClock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_returns_the_first_value_that_is_done():
    values = iter(["running", "running", "done", "never read"])
    fake = FakeClock()
    got = wait_for(lambda: next(values), lambda v: v == "done", timeout=60, clock=fake.clock, sleep=fake.sleep)
    assert got == "done"
    assert len(fake.sleeps) == 2


def test_timeout_carries_the_last_state_and_respects_the_budget():
    fake = FakeClock()
    polls = []

    def poll():
        polls.append(fake.now)
        return {"state": "transferring", "poll": len(polls)}

    with pytest.raises(WaitTimeout) as err:
        wait_for(poll, lambda v: False, timeout=30, what="transfer of vol1", clock=fake.clock, sleep=fake.sleep)
    assert err.value.last == {"state": "transferring", "poll": len(polls)}
    assert "transfer of vol1" in str(err.value) and "30" in str(err.value)
    assert fake.now == pytest.approx(130.0)  # never sleeps past the deadline
    assert max(fake.sleeps) <= 5.0


def test_zero_timeout_polls_once():
    fake = FakeClock()
    with pytest.raises(WaitTimeout):
        wait_for(lambda: 1, lambda v: v == 2, timeout=0, clock=fake.clock, sleep=fake.sleep)
    assert fake.sleeps == []
    assert wait_for(lambda: 2, lambda v: v == 2, timeout=0, clock=fake.clock, sleep=fake.sleep) == 2


def test_interval_grows_to_its_cap():
    fake = FakeClock()
    with pytest.raises(WaitTimeout):
        wait_for(lambda: 0, lambda v: False, timeout=100, interval=1, max_interval=4, clock=fake.clock, sleep=fake.sleep)
    assert fake.sleeps[0] == 1
    assert fake.sleeps[1] == 1.5
    assert max(fake.sleeps) == 4
