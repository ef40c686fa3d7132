# -*- coding: utf-8 -*-
# Copyright: Contributors to the storage.datamotion collection
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ONTAP's query value syntax, shared by ZAPI queries and REST filters.

``a|b`` alternatives, ``*`` wildcards, ``!x`` negation, ``<x``, ``>x``, ``<=x``, ``>=x``
comparisons (numbers, or ISO 8601 durations such as ``PT1H``), case-insensitive
for booleans.
"""

import fnmatch
import re

_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


def duration_seconds(text):
    match = _DURATION.match(text or "")
    if not match or text in ("P", "PT"):
        return None
    days, hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def iso_duration(seconds):
    """Seconds as ONTAP writes a duration, every part present: PT1H2M3S, PT0H0M5S.

    Hours grow past 24 rather than becoming days, so parsers such as cinder's
    strptime("PT%HH%MM%SS") read every value this writes below 100 hours.
    """
    seconds = int(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return "PT%dH%dM%dS" % (hours, minutes, secs)


def _number(text):
    seconds = duration_seconds(text)
    if seconds is not None:
        return seconds
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _as_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def match_one(pattern, value):
    text = _as_text(value)
    if pattern.startswith("!"):
        return not match_one(pattern[1:], value)
    for op in ("<=", ">=", "<", ">"):
        if pattern.startswith(op):
            left, right = _number(text), _number(pattern[len(op):])
            if left is None or right is None:
                return False
            return {"<=": left <= right, ">=": left >= right, "<": left < right, ">": left > right}[op]
    if pattern.lower() in ("true", "false") and text.lower() in ("true", "false"):
        return pattern.lower() == text.lower()
    if pattern.lower() == "null":
        return value is None
    if "*" in pattern or "?" in pattern:
        return fnmatch.fnmatchcase(text, pattern.replace("[", "[[]"))
    return text == pattern


def match_value(pattern, value):
    """True when ``value`` (a scalar, or a list of scalars: any of them) matches the query ``pattern``."""
    if isinstance(value, list):
        return any(match_value(pattern, v) for v in value)
    return any(match_one(alt, value) for alt in str(pattern).split("|"))
