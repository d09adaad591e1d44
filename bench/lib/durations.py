"""Durations as `sockserv bench` reads them, for the settings of the
experiments: a number with an optional unit (us, ms, s, m; s when none)."""

import re

_DURATION = re.compile(r"([0-9.]+)(us|ms|s|m)?")
_UNIT_SECONDS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, None: 1.0}


def seconds(text):
    """Seconds in a duration such as "500ms", "3s", "1m" or "2"."""
    match = _DURATION.fullmatch(str(text).strip())
    if match is None:
        raise ValueError(f"not a duration: {text!r}")
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
