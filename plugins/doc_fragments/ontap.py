# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    # Connection options of every ONTAP module; set them once with
    # module_defaults: {group/storage.datamotion.ontap: {...}}. Also the attributes all ONTAP
    # modules share (the platform and that action group).
    # List this fragment before ansible.builtin.action_common_attributes: fragments are merged
    # key by key, and where two give the same key of an attribute the first one listed wins.
    DOCUMENTATION = r"""
attributes:
  platform:
    support: full
    platforms: posix
  action_group:
    support: full
    membership: [storage.datamotion.ontap]
options:
  hostname:
    description:
      - Name or address of the cluster management interface (of the destination cluster, for SnapMirror).
      - Falls back to the environment variable E(ONTAP_HOSTNAME).
    type: str
    required: true
  username:
    description:
      - User to log in as. Falls back to E(ONTAP_USERNAME).
      - Required unless O(cert_filepath) is given.
    type: str
    aliases: [user]
  password:
    description:
      - Password of O(username). Falls back to E(ONTAP_PASSWORD).
      - Required unless O(cert_filepath) is given.
    type: str
    aliases: [pass]
  ca_bundle:
    description:
      - A file of PEM CA certificates to verify the cluster's certificate with, over REST and ZAPI alike, instead of
        the system's. Ignored with O(validate_certs=false).
      - The environment variables E(REQUESTS_CA_BUNDLE) and E(CURL_CA_BUNDLE) are never used.
      - Falls back to E(ONTAP_CA_BUNDLE).
    type: path
    version_added: 0.2.0
  cert_filepath:
    description:
      - A PEM client certificate to log in with instead of a password, for a user made with
        C(security login create -authentication-method cert). Needs O(key_filepath) and O(https).
      - Falls back to E(ONTAP_CERT_FILEPATH).
    type: path
    version_added: 0.2.0
  key_filepath:
    description:
      - The PEM private key of O(cert_filepath), unencrypted. Falls back to E(ONTAP_KEY_FILEPATH).
    type: path
    version_added: 0.2.0
  https:
    description:
      - Talk to the cluster over HTTPS. V(false) uses plain HTTP (a lab or a simulator only).
      - Falls back to E(ONTAP_HTTPS).
    type: bool
    default: true
  validate_certs:
    description:
      - Verify the cluster's TLS certificate (with O(ca_bundle) when given). Set V(false) only for a self-signed
        certificate you trust; it holds on every request, whatever E(REQUESTS_CA_BUNDLE) or E(CURL_CA_BUNDLE) say.
      - Falls back to E(ONTAP_VALIDATE_CERTS).
    type: bool
    default: true
  port:
    description:
      - TCP port of the management interface (1 to 65535); by default 443 with O(https), else 80.
      - Falls back to E(ONTAP_PORT).
    type: int
  use_rest:
    description:
      - V(always) uses the REST API, V(never) uses ZAPI (ONTAPI, through netapp-lib).
      - V(auto) asks the cluster for C(/api/cluster) once and uses REST when it answers, else ZAPI.
      - Falls back to E(ONTAP_USE_REST).
    type: str
    choices: [auto, always, never]
    default: auto
  timeout:
    description:
      - Seconds to wait for one answer of the cluster, and for one asynchronous job of the cluster to finish; more than 0.
      - Falls back to E(ONTAP_TIMEOUT).
    type: int
    default: 60
requirements:
  - requests (REST)
  - netapp-lib (ZAPI)
notes:
  - An unreachable cluster and refused credentials are reported before anything is changed.
"""
