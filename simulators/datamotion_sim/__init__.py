# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Simulators of the arrays storage.datamotion drives.

Each simulator keeps a state model (``model.py``) apart from its wire layer, so the
same model answers every protocol the array speaks:

* ``datamotion_sim.ontap``: an HTTP(S) server hosting one or more ONTAP clusters,
  speaking ZAPI (as netapp-lib sends it) and REST (as ONTAP 9 serves it);
* ``datamotion_sim.vnx``: an executable that storops runs as ``naviseccli``, with
  each LUN backed by a sparse file.
"""
