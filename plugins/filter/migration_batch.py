# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The migration role's array steps for all the hosts of a play in one module run.

The host method migrates each volume on a host of its own (an inventory alias of the migration host per
volume, with forks); each host says what it wants of the array in a fact (its wish), one host runs the
module once for all of them (run_once), and each host takes its own part of the result back. These filters
group the wishes and find a host's part; no I/O."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
name: migration_batches
short_description: Group the migration role's per-host wishes into one module run each (internal to the role)
version_added: 0.4.0
description:
  - The hosts of a play that migrate one volume each say in the fact C(migration_batch_wish) which LUN they want
    in or out of which host's storage group, through which VNX connection (a digest of it). This groups the wishes
    of the hosts given that use the connection O(key) by storage-group host and access mode (or C(absent)), so
    that one C(vnx_host_access) run with O(ignore:luns) serves each group. The role C(storage.datamotion.migration) uses
    it with C(migration_batch_result); they are not meant for other use.
author:
  - Storage DataMotion Team (@storage-datamotion)
positional: hostvars, key
options:
  _input:
    description: The names of the play's hosts (C(ansible_play_batch)).
    type: list
    elements: str
    required: true
  hostvars:
    description: C(hostvars).
    type: dict
    required: true
  key:
    description: The digest of the VNX connection of the host that runs the module; wishes with another are left out.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Expose the LUNs of the play's migrations, one run per storage group and access mode
  storage.datamotion.vnx_host_access:
    luns: "{{ item.luns }}"
    host: "{{ item.host }}"
    access_mode: "{{ item.mode }}"
  loop: "{{ ansible_play_batch | storage.datamotion.migration_batches(hostvars, migration_vnx | to_json | hash('sha1')) }}"
  run_once: true
"""

RETURN = r"""
_value:
  description: One entry per storage-group host and mode, with C(host), C(mode) and C(luns) (names, each once).
  type: list
  elements: dict
"""


def _wish(hostvars, host):
    try:
        wish = hostvars[host].get("migration_batch_wish")
    except KeyError:
        return None
    return wish if isinstance(wish, dict) and wish.get("lun") else None


def migration_batches(hosts, hostvars, key):
    groups = {}
    for host in hosts:
        wish = _wish(hostvars, host)
        if wish is None or wish.get("key") != key:
            continue
        group = groups.setdefault((wish["host"], wish["mode"]), dict(host=wish["host"], mode=wish["mode"], luns=[]))
        if wish["lun"] not in group["luns"]:
            group["luns"].append(wish["lun"])
    return [groups[k] for k in sorted(groups)]


def migration_batch_result(registered, wish):
    """This host's part of the loop of runs: ``{'done', 'changed', 'connection', 'error', 'shared'}``.

    ``done``: the run did this host's LUN; ``changed``: it added the LUN to the group (always false for
    ``absent``). Not done: the wish had another connection, or the run of its group failed - then ``error`` is the
    run's message and ``shared`` says whether other LUNs were in that run. A failed run that was this LUN's alone
    failed on it; one shared with other LUNs may have failed on any of them, so each of its hosts then runs the
    module for its own LUN, which finishes what the run left and names its own error."""
    part = dict(done=False, changed=False, connection={}, error=None, shared=False)
    if not wish:
        return part
    for result in (registered or {}).get("results") or []:
        item = result.get("item") or {}
        if item.get("host") != wish["host"] or item.get("mode") != wish["mode"] or wish["lun"] not in item.get("luns", []):
            continue
        if "connections" not in result:
            # the role runs it with failed_when false: a run without connections failed
            part.update(error=result.get("msg") or "the storage group could not be changed", shared=len(item["luns"]) > 1)
        elif wish["mode"] == "absent":
            part.update(done=True)
        else:
            connection = result["connections"][item["luns"].index(wish["lun"])]
            part.update(done=True, changed=bool(connection.get("added")), connection=connection)
        break
    return part


class FilterModule(object):
    def filters(self):
        return dict(migration_batches=migration_batches, migration_batch_result=migration_batch_result)
