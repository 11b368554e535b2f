"""The Python side of embed.c: here C is the host and Python the guest."""

import sys


def greet(host):
    """Called from C with the host's name; returns a number back to C."""
    print("[py] greet(%r): Python %d.%d running inside a C program"
          % (host, sys.version_info.major, sys.version_info.minor),
          flush=True)
    return len(host)
