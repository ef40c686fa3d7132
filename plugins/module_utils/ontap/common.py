# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What both ONTAP transports share: the error type, the facts, the connection options.

A relationship is read as a ``Relationship`` whatever the transport, in one vocabulary:
``state`` is uninitialized, snapmirrored, paused, broken_off or in_sync (ZAPI's
``broken-off`` and a quiesced relationship become ``broken_off`` and ``paused``),
``status`` is idle, transferring, quiescing, quiesced, breaking or aborting, and
``lag_time`` is in seconds.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re
from dataclasses import asdict, dataclass, field
from typing import List, Optional

from ansible.module_utils.basic import env_fallback

# What an array's error means to a run. Each rule lives here only; none of them is success by
# itself: the caller re-reads the relationship and plans again from what it sees.
# ZAPI errno and REST code, both as strings (../shared/reference/ontap.md section 2.5).
NOT_FOUND_CODES = ("4", "15661", "13040", "13005")
EXISTS_CODES = ("17122", "6619637")
TRANSFER_IN_PROGRESS_CODES = ("17137", "17131", "13303810")
NO_TRANSFER_CODES = ("17130",)
NOT_QUIESCED_CODES = ("17127",)
# codes ONTAP uses for several refusals (REST's SnapMirror state errors, ZAPI's generic 13001, REST's
# duplicate 1): the message tells which one
REST_STATE_CODES = ("13303812", "13303844", "13303808", "13001", "1", "17105")
REREAD_MESSAGES = ("already", "duplicate", "in progress", "not initialized", "quiesc", "broken off")

STATES = ("uninitialized", "snapmirrored", "paused", "broken_off", "in_sync")
BUSY_STATUSES = ("transferring", "quiescing", "breaking", "aborting", "queued", "preparing",
                 "finalizing", "checking")


class OntapError(Exception):
    """Any failure talking to a cluster, with a message an administrator can act on.

    ``code`` is ONTAP's error code as a string (ZAPI errno or REST code) when the
    cluster answered; ``unreachable`` is true when it did not answer at all.
    """

    def __init__(self, message, code=None, unreachable=False):
        super(OntapError, self).__init__(message)
        self.message = message
        self.code = None if code is None else str(code)
        self.unreachable = unreachable

    def __str__(self):
        return self.message

    @property
    def refused_credentials(self):
        return self.code == "401"

    @property
    def not_found(self):
        """The object named is not there (to be confirmed by a read)."""
        return self.code in NOT_FOUND_CODES

    @property
    def no_transfer(self):
        """An abort found no transfer to abort."""
        return self.code in NO_TRANSFER_CODES or (self.code == "13303810" and "no transfer" in self.message.lower())

    @property
    def transfer_in_progress(self):
        """Another transfer (a parallel run's, a schedule's) is running on the relationship."""
        if self.code in TRANSFER_IN_PROGRESS_CODES:
            return not self.no_transfer
        return self.code in REST_STATE_CODES and "in progress" in self.message.lower()

    @property
    def reread(self):
        """The cluster refused because the relationship is not in the state the plan read: someone (a parallel
        run, another admin) changed it. Re-read and plan again; never success by itself."""
        if self.not_found or self.code in EXISTS_CODES + NOT_QUIESCED_CODES or self.transfer_in_progress or self.no_transfer:
            return True
        return self.code in REST_STATE_CODES and any(m in self.message.lower() for m in REREAD_MESSAGES)


@dataclass
class Relationship:
    """One SnapMirror relationship as the destination cluster reports it."""
    source_path: str
    destination_path: str
    state: str
    status: str = "idle"
    healthy: bool = True
    unhealthy_reason: Optional[str] = None
    lag_time: Optional[int] = None
    last_transfer_end: Optional[str] = None
    last_transfer_error: Optional[str] = None
    last_transfer_size: Optional[int] = None       # bytes of the last (or running) transfer
    last_transfer_duration: Optional[int] = None   # its seconds
    policy: Optional[str] = None
    policy_type: Optional[str] = None
    schedule: Optional[str] = None
    relationship_type: Optional[str] = None
    uuid: Optional[str] = None
    transfer_uuid: Optional[str] = None

    @property
    def busy(self):
        return self.status in BUSY_STATUSES

    def facts(self):
        """The facts a module returns (no transport handles)."""
        result = asdict(self)
        result.pop("transfer_uuid")
        return result


@dataclass
class Volume:
    svm: str
    name: str
    type: str = "rw"
    size: int = 0
    state: str = "online"
    junction_path: Optional[str] = None
    aggregates: List[str] = field(default_factory=list)
    uuid: Optional[str] = None

    @property
    def path(self):
        return "%s:%s" % (self.svm, self.name)


@dataclass
class Aggregate:
    name: str
    available: int = 0


def check_connection(params, role):
    """The connection options of one cluster, checked before any connection (OntapError naming the role)."""
    role = role or "ONTAP"
    host = params.get("hostname")
    if not isinstance(host, str) or not host.strip("[]") or any(ch.isspace() or ch in "/?#@" for ch in host):
        raise OntapError("%s cluster: hostname %r is not a host name or an IP address" % (role, host))
    port = params.get("port")
    if port is not None and not 1 <= port <= 65535:
        raise OntapError("%s cluster: port %s is not a TCP port (1 to 65535)" % (role, port))
    timeout = params.get("timeout")
    if timeout is not None and timeout <= 0:
        raise OntapError("%s cluster: timeout must be a positive number of seconds, not %s" % (role, timeout))
    if bool(params.get("cert_filepath")) != bool(params.get("key_filepath")):
        raise OntapError("%s cluster: cert_filepath and key_filepath go together (the client certificate and its key)" % role)
    if not params.get("cert_filepath") and not (params.get("username") and params.get("password") is not None):
        raise OntapError("%s cluster: give username and password, or cert_filepath and key_filepath" % role)


def url_host(host):
    """A host as it goes into a URL: a bare IPv6 address in brackets."""
    return "[%s]" % host if ":" in host and not host.startswith("[") else host


def basic_auth(username, password):
    """The Authorization header of HTTP basic authentication, in UTF-8 (ONTAP's encoding) whatever the characters."""
    import base64
    token = base64.b64encode(("%s:%s" % (username, password)).encode("utf-8")).decode("ascii")
    return "Basic %s" % token


def split_path(path, what="path"):
    """'svm:volume' -> ('svm', 'volume'); anything else is an OntapError."""
    if not isinstance(path, str) or path.count(":") != 1:
        raise OntapError("%s %r is not of the form <svm>:<volume>; write it as, for example, svm_dst:vol1" % (what, path))
    svm, volume = path.split(":")
    if not svm or not volume or any(ch in path for ch in "/*?|!<>, \t"):
        raise OntapError("%s %r is not of the form <svm>:<volume>; write it as, for example, svm_dst:vol1" % (what, path))
    return svm, volume


_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_duration(text):
    """ISO 8601 duration as ONTAP REST writes lag_time ('PT1H2M3S', 'P1DT2H') -> whole seconds."""
    if text in (None, ""):
        return None
    match = _DURATION.match(str(text))
    if not match:
        raise OntapError("cannot read the duration %r the cluster returned" % (text,))
    days, hours, minutes, seconds = match.groups()
    return int(int(days or 0) * 86400 + int(hours or 0) * 3600 + int(minutes or 0) * 60 + float(seconds or 0))


def epoch_to_iso(value):
    """ZAPI timestamps (seconds since the epoch, as text) -> ISO 8601 in UTC, as REST writes them."""
    if value in (None, ""):
        return None
    when = datetime.datetime.fromtimestamp(int(value), tz=datetime.timezone.utc)
    return when.isoformat()


def connection_argument_spec():
    """The connection options of every ONTAP module (doc fragment storage.datamotion.ontap)."""
    return dict(
        hostname=dict(type="str", required=True, fallback=(env_fallback, ["ONTAP_HOSTNAME"])),
        username=dict(type="str", aliases=["user"], fallback=(env_fallback, ["ONTAP_USERNAME"])),
        password=dict(type="str", aliases=["pass"], no_log=True, fallback=(env_fallback, ["ONTAP_PASSWORD"])),
        ca_bundle=dict(type="path", fallback=(env_fallback, ["ONTAP_CA_BUNDLE"])),
        cert_filepath=dict(type="path", fallback=(env_fallback, ["ONTAP_CERT_FILEPATH"])),
        key_filepath=dict(type="path", no_log=False, fallback=(env_fallback, ["ONTAP_KEY_FILEPATH"])),
        https=dict(type="bool", default=True, fallback=(env_fallback, ["ONTAP_HTTPS"])),
        validate_certs=dict(type="bool", default=True, fallback=(env_fallback, ["ONTAP_VALIDATE_CERTS"])),
        port=dict(type="int", fallback=(env_fallback, ["ONTAP_PORT"])),
        use_rest=dict(type="str", default="auto", choices=["auto", "always", "never"], fallback=(env_fallback, ["ONTAP_USE_REST"])),
        timeout=dict(type="int", default=60, fallback=(env_fallback, ["ONTAP_TIMEOUT"])),
    )
