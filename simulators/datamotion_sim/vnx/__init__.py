# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A Dell EMC VNX block array that storops drives through ``naviseccli``.

* ``store``: where arrays live under ``$VNXSIM_HOME`` and how a call locks one;
* ``model``: the array's objects and rules (pools, LUNs, snapshots, mount points,
  migrations, storage groups), as plain JSON-able dicts and functions;
* ``data``: the bytes behind LUNs and snapshots (sparse files) and their exposure
  on this machine (loop devices and WWN links);
* ``naviseccli``: the wire: argv in, the text naviseccli prints out;
* ``cli``: ``vnx-sim``, the control commands (init, state, fault, sp, latency, ...).
"""
