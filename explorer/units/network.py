"""Whether a TCP service answers within a stated time, its name lookup included (used before the Hub or a Ray
cluster is asked for anything, so that an unreachable one is said within that time, not after a library's retries).
"""
from __future__ import annotations

import socket
import threading


def port_answers(host: str, port: int, timeout: float) -> bool:
    """Whether a TCP connection to ``host:port`` opens within ``timeout`` seconds. A name lookup cannot be
    interrupted, so the attempt runs in a daemon thread that is left behind when time is up."""
    opened: list[bool] = []

    def connect():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            opened.append(True)
        except (OSError, ValueError):  # refused, unreachable, unknown name, a port out of range
            opened.append(False)

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout)
    return opened == [True]
