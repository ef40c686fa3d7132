# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # The connection options of every VNX module, and the attributes all VNX modules share
    # (the platform, and the action group that sets those options once).
    # List this fragment before ansible.builtin.action_common_attributes: fragments are merged
    # key by key, and where two give the same key of an attribute the first one listed wins.
    DOCUMENTATION = r"""
attributes:
  platform:
    platforms: posix
  action_group:
    description: Use C(group/storage.datamotion.vnx) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - storage.datamotion.vnx
options:
  sp_address:
    description:
      - Address of a storage processor (SP A or SP B) of the VNX.
      - Falls back to the environment variable E(VNX_SP_ADDRESS).
    type: str
    required: true
  sp_b_address:
    description:
      - Address of the other storage processor of the same VNX. When the SP at O(sp_address) does not answer (a
        network error), each command is sent to this one instead, for the rest of the task - so a task, and a wait
        for a migration, go on when one SP fails or reboots.
      - Without it, a task fails when the SP at O(sp_address) does not answer.
      - Falls back to the environment variable E(VNX_SP_B_ADDRESS).
    type: str
    version_added: 0.2.0
  username:
    description:
      - Navisphere user name. Give it with O(password), or give O(security_file) instead.
      - Falls back to the environment variable E(VNX_USERNAME).
    type: str
  password:
    description:
      - Password of O(username).
      - Falls back to the environment variable E(VNX_PASSWORD).
    type: str
  scope:
    description:
      - Scope of O(username) - V(0) global, V(1) local, V(2) LDAP.
      - Falls back to the environment variable E(VNX_SCOPE).
    type: int
    choices: [0, 1, 2]
    default: 0
  security_file:
    description:
      - Directory of a Navisphere security file, used instead of O(username) and O(password).
      - Falls back to the environment variable E(VNX_SECURITY_FILE).
    type: path
  naviseccli_path:
    description:
      - Path of the C(naviseccli) binary. When not set, storops looks in C(/opt/Navisphere/bin) and then in E(PATH).
      - Falls back to the environment variable E(VNX_NAVISECCLI_PATH).
    type: path
  timeout:
    description:
      - Time limit in seconds of each C(naviseccli) command. A command that has not answered by then is ended and the
        task fails, naming the command's object. C(naviseccli)'s own C(-t) gets the same value, kept between 3 and 1800.
      - Without it, a command may take up to 1800 seconds.
      - Falls back to the environment variable E(VNX_TIMEOUT).
    type: int
requirements:
  - storops >= 1.2.12 (Python 3.12 or older; storops does not import on Python 3.13)
  - Navisphere CLI (C(naviseccli)) on the host that runs the module
notes:
  - The options can be set once for every VNX module with C(module_defaults) and the group
    C(group/storage.datamotion.vnx).
  - Modules run where C(naviseccli) is installed, usually the controller (with C(delegate_to) V(localhost)).
"""
