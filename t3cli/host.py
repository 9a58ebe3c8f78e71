"""Which machine this process runs on, as leases and agent records name it.

- `host_name()`: `$T3_HOST` when set, else the machine's host name. Lease owners and the process
  groups of agents are recorded with it; a reactor only judges (or kills) processes of its own
  host. Two machines that share one database (a network file system) must have distinct names;
  tests set `T3_HOST` to play two machines on one.
- `process_space()`: the boot and the PID namespace this process sees. A process id and a start
  time name one process only within one boot of one PID namespace (containers on one host have
  their own), so a recorded process is judged only where both match.
"""

from __future__ import annotations

import os
import socket


def host_name() -> str:
    return os.environ.get("T3_HOST") or socket.gethostname()


def process_space() -> str:
    """`BOOT_ID/PID_NAMESPACE`, or "" where the system does not say (not Linux)."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            boot = fh.read().strip()
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""
    return f"{boot}/{namespace}"
