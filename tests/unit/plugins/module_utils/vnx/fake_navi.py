# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for the naviseccli process: the only thing the unit tests fake.

storops runs every command through the client's ``run_naviseccli(cmd, timeout)``; FakeNavi replaces that
one function. Answers are given per command prefix (the words after the credential
prefix); a list of answers is consumed in order and its last one repeats. Every command
is recorded, so a test can assert which commands ran.
"""

from __future__ import annotations

LUN = """LOGICAL UNIT NUMBER {id}
Name:  {name}
UID:  {wwn}
Current Owner:  SP A
Default Owner:  SP A
User Capacity (Blocks):  {blocks}
User Capacity (GBs):  {gb:.3f}
Consumed Capacity (GBs):  0.000
Pool Name:  Pool0
Raid Type:  r_5
Current State:  Ready
Status:  OK(0x0)
Current Operation:  None
Is Thin LUN:  {thin}
Is Compressed:  No
Deduplication State:  Off
Tiering Policy:  Auto Tier
Initial Tier:  Optimize Pool
Snapshot Mount Points:  {smps}
Primary LUN:  {primary}
Attached Snapshot:  {attached}
"""

SNAP = """Name:  {name}
Description:  {descr}
Creation time:  05/04/21 10:11:12
Last modify time:  Never
Last modified by:  N/A
Source LUN(s):  {source}
Source CG:  N/A
Primary LUN(s):  {source}
State:  Ready
Status:  OK(0x0)
Allow Read/Write:  Yes
Modified:  No
Attached LUN(s):  {attached}
Allow auto delete:  No
Expiration date:  Never
"""

SG = """Storage Group Name:    {name}
Storage Group UID:     AA:BB:CC:DD:00:11:22:33:44:55:66:77:88:99:AA:BB
HBA/SP Pairs:

  HBA UID                                          SP Name     SPPort
  -------                                          -------     ------
  iqn.1993-08.org.debian:01:abcdef                  SP A         4
Host name:             {host}
SPPort:                A-4v0
Initiator IP:          10.0.0.5
TPGT:                  1
ISID:                  N/A

HLU/ALU Pairs:

  HLU Number     ALU Number
  ----------     ----------
{pairs}
Shareable:             YES
"""

POOL = """Pool Name:  Pool0
Pool ID:  0
Raid Type:  r_5
Percent Full Threshold:  70
State:  Ready
Status:  OK(0x0)
Current Operation:  None
User Capacity (GBs):  1000.000
Consumed Capacity (GBs):  120.500
Available Capacity (GBs):  {available:.3f}
Total Subscribed Capacity (GBs):  300.000
"""

MIGRATION = """Source LU Name:  {source}
Source LU ID:  {source_id}
Dest LU Name:  {dest}
Dest LU ID:  {dest_id}
Migration Rate:  high
Current State:  {state}
Percent Complete:  {percent}
Time Remaining:  2 minute(s)
"""

NETWORK_ERROR = ("A network error occurred while trying to connect: '%s'.\n"
                 "Message : Error occurred because connection refused. Unable to establish a secure connection to the Management Server.")
LUN_NOT_FOUND = "Could not retrieve the specified (pool lun). The (pool lun) may not exist"
SNAP_NOT_FOUND = "Could not retrieve the specified (Snapshot). The (Snapshot) may not exist"
NOT_MIGRATING = "Error: migrate -list command failed.\nThe specified source LUN is not currently migrating."


def lun(id, name, gb=10, thin=True, smps=(), primary=None, attached=None):
    return LUN.format(id=id, name=name, wwn="60:06:01:60:AA:BB:00:00:11:22:33:44:55:66:%02X:%02X" % (id // 256 % 256, id % 256),
                      blocks=int(gb * 2097152), gb=gb, thin="Yes" if thin else "No",
                      smps=",".join(str(i) for i in smps) or "N/A", primary=primary or "N/A", attached=attached or "N/A")


def snap(name, source, attached=(), descr=""):
    return SNAP.format(name=name, source=source, attached=", ".join(str(i) for i in attached), descr=descr)


def storage_group(name, host=None, hlus=None):
    pairs = "\n".join("    %d               %d" % (h, a) for h, a in sorted((hlus or {}).items()))
    return SG.format(name=name, host=host or name, pairs=pairs)


HBA = """Information about each HBA:

HBA UID:                 iqn.1993-08.org.debian:01:{host}
Server Name:             {host}
Server IP Address:       10.0.0.5
HBA Model Description:
HBA Vendor Description:
HBA Device Driver Name:
Information about each port of this HBA:

    SP Name:               SP A
    SP Port ID:            4
    HBA Devicename:
    Trusted:               NO
    Logged In:             YES
    Defined:               YES
    Initiator Type:           3
    StorageGroup Name:     None
"""


def hbas(*hosts):
    """port -list -hba: the registered initiators of these hosts."""
    return "\n".join(HBA.format(host=h) for h in hosts)


def pool(available=879.5):
    return POOL.format(available=available)


def migration(source, source_id, dest, dest_id, state="MIGRATING", percent=35):
    return MIGRATION.format(source=source, source_id=source_id, dest=dest, dest_id=dest_id, state=state, percent=percent)


class FakeNavi(object):
    """Answers storops' naviseccli commands from a table; records every command."""

    PREFIX_OPTIONS = ("-h", "-user", "-password", "-scope", "-secfilepath", "-t")

    def __init__(self):
        self.answers = []   # (words, [outputs])
        self.commands = []  # the commands after the credential prefix, as strings
        self.down = set()   # SP addresses that answer with a network error
        self.addresses = []  # the -h of each command

    def on(self, words, *outputs):
        """Answer commands starting with ``words`` with ``outputs`` in turn (the last repeats)."""
        self.answers.insert(0, (words.split(), list(outputs) or [""]))
        return self

    def strip(self, cmd):
        args = list(cmd[1:])
        out = []
        i = 0
        while i < len(args):
            if args[i] in self.PREFIX_OPTIONS:
                i += 2
                continue
            if args[i] == "-np":
                i += 1
                continue
            out.append(args[i])
            i += 1
        return out

    def execute(self, cmd, timeout=None):
        words = self.strip(cmd)
        address = cmd[cmd.index("-h") + 1] if "-h" in cmd else None
        self.addresses.append(address)
        if address in self.down:
            return NETWORK_ERROR % address
        self.commands.append(" ".join(words))
        if words[:3] == ["security", "-certificate", "-getLevel"]:
            return "low"
        matches = [(len(prefix), i) for i, (prefix, outputs) in enumerate(self.answers) if words[:len(prefix)] == prefix]
        if matches:
            # the longest prefix wins; among equal ones, the latest given
            outputs = self.answers[min(matches, key=lambda m: (-m[0], m[1]))[1]][1]
            return outputs.pop(0) if len(outputs) > 1 else outputs[0]
        if words[:2] == ["lun", "-list"]:
            return LUN_NOT_FOUND
        if words[:2] == ["snap", "-list"] and "-id" in words:
            return SNAP_NOT_FOUND
        if words[:2] == ["migrate", "-list"]:
            return NOT_MIGRATING if "-source" in words else "No current migrations exist."
        if words[:2] == ["storagepool", "-list"] and "-name" in words:
            return "Could not retrieve the specified (Storagepool). The (Storagepool) may not exist"
        if words[:3] == ["snap", "-group", "-list"] and "-id" in words:
            return "Cannot find the consistency group."
        if words[:2] == ["storagegroup", "-messner"]:
            return "The group name or UID does not match any storage groups for this array"
        return ""  # write commands succeed silently, like the array

    def array_commands(self):
        """The commands sent to the array (the security-level probe is local and once per process)."""
        return [c for c in self.commands if not c.startswith("security")]

    def writes(self):
        """The commands that change the array."""
        reads = ("lun -list", "snap -list", "storagegroup -list", "storagegroup -messner", "migrate -list",
                 "storagepool -list", "security -certificate", "getagent", "snap -group -list", "port -list")
        return [c for c in self.commands if not c.startswith(reads)]
