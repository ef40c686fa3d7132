# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connect to a cluster from module parameters, over REST or ZAPI (``use_rest``)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.storage.datamotion.plugins.module_utils.ontap import rest, zapi
from ansible_collections.storage.datamotion.plugins.module_utils.ontap.common import check_connection

CONNECTION_KEYS = ("hostname", "username", "password", "https", "validate_certs", "port", "timeout",
                   "ca_bundle", "cert_filepath", "key_filepath")


def missing_library(use_rest):
    """(library, import error) the chosen transport lacks, or None."""
    if use_rest != "never" and not rest.HAS_REQUESTS:
        return "requests", rest.REQUESTS_IMPORT_ERROR
    if use_rest != "always" and not zapi.HAS_NETAPP_LIB:
        return "netapp-lib", zapi.NETAPP_LIB_IMPORT_ERROR
    return None


def connect(params, page_size=None, role="destination"):
    """A RestClient or ZapiClient for the cluster the parameters name.

    ``use_rest: auto`` asks ``/api/cluster`` once and falls back to ZAPI when the
    cluster does not serve REST; an unreachable cluster or refused credentials fail
    right there, whatever the transport. ``role`` (destination, source) names the cluster in messages.
    """
    check_connection(params, role)
    kwargs = dict((k, params.get(k)) for k in CONNECTION_KEYS)
    kwargs["role"] = role
    if page_size:
        kwargs["page_size"] = page_size
    use_rest = params.get("use_rest") or "auto"
    if use_rest == "never":
        return zapi.ZapiClient(**kwargs)
    client = rest.RestClient(**kwargs)
    if use_rest == "always" or client.probe():
        return client
    return zapi.ZapiClient(**kwargs)
