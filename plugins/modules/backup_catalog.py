#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: backup_catalog
short_description: The files of one LUN's backups on the backup host - prepare the directory, commit a backup
version_added: 0.3.0
description:
  - Used by the role C(storage.datamotion.backup) on the directory of one LUN's backups (O(path)), while it holds that
    LUN's lock (M(storage.datamotion.record_lock)). A backup there is an image C(<stamp>.img) with its manifest
    C(<stamp>.img.manifest.json); C(<stamp>.img.partial) is an image still being copied. Files with other names are
    never touched.
  - O(state=prepared) makes the directory (mode C(0700)) and removes what interrupted backups left - images whose copy
    never finished, manifests whose image never got its name, and temporary files of a manifest's write - then lists
    the backups.
  - O(state=committed) writes the manifest O(manifest) (the JSON of O(record)) atomically - a temporary file, synced,
    renamed over it - and only then renames the image O(partial) to O(image), so an image under its final name
    always has its manifest, whenever the run is stopped. Then, with O(keep), removes the oldest backups so that
    O(keep) are left, the one just committed counting as the newest.
  - An action plugin runs one small Python command on the host through the connection (with become) - no module is
    started. The host needs a Python (the one of C(ansible_python_interpreter), or the one discovered for modules).
author:
  - Storage DataMotion Team (@storage-datamotion)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports what would be made, written, renamed and removed; changes nothing.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
options:
  path:
    description: The directory of one LUN's backups (absolute). Its parent must exist.
    type: path
    required: true
  state:
    description: V(prepared) readies the directory for a new backup; V(committed) records one whose image is copied.
    type: str
    choices: [prepared, committed]
    default: prepared
  manifest:
    description: The manifest's file (with O(state=committed)).
    type: path
  record:
    description: The manifest's content, written as JSON (with O(state=committed)).
    type: dict
  image:
    description: The image's final name (with O(state=committed)); a block device given as the backup's target is named here too.
    type: path
  partial:
    description: The image's name while it is copied, renamed to O(image) after the manifest is written. Empty - nothing is renamed.
    type: path
  keep:
    description: With O(state=committed), how many backups to keep in O(path). V(0) keeps all.
    type: int
    default: 0
"""

EXAMPLES = r"""
- name: Ready the backups of db01
  storage.datamotion.backup_catalog:
    path: /backup/db01
  register: catalog

- name: Commit the backup copied to /backup/db01/20261207T080000000000Z.img.partial, keeping seven
  storage.datamotion.backup_catalog:
    path: /backup/db01
    state: committed
    manifest: /backup/db01/20261207T080000000000Z.img.manifest.json
    record: {format: storage.datamotion.backup/1, source_lun: db01}
    partial: /backup/db01/20261207T080000000000Z.img.partial
    image: /backup/db01/20261207T080000000000Z.img
    keep: 7
"""

RETURN = r"""
backups:
  description: The images of the backups in O(path) after the task, oldest first.
  returned: success
  type: list
  elements: str
removed:
  description: The files removed (in check mode, that would be).
  returned: always
  type: list
  elements: str
named:
  description: Whether the image got its final name (also returned when a later step failed).
  returned: always
  type: bool
actions:
  description: What was done, one line each.
  returned: success
  type: list
  elements: str
"""
