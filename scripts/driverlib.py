"""Helpers shared by the Python drivers and test scripts that run local processes.

Import it from scripts/ (`import driverlib`; a script in scripts/ finds it on its own
path) or, from elsewhere, after putting scripts/ on sys.path (tests/holmes/*.py do).
"""

import logging
import socket
import subprocess


def free_port():
    """A TCP port on 127.0.0.1 that is free now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def stop_process(proc, timeout=10):
    """Terminates `proc` if it still runs and waits for it; kills it after `timeout` s."""
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Capture(logging.Handler):
    """Collects WARNING+ records of every logger while active (a `with` block). With
    `root_level`, the root logger is set to WARNING meanwhile (and restored after)."""

    def __init__(self, root_level=False):
        super().__init__(level=logging.WARNING)
        self.records = []
        self._root_level = root_level
        self._level = None

    def emit(self, record):
        self.records.append(f"{record.name}: {record.getMessage()}")

    def __enter__(self):
        root = logging.getLogger()
        if self._root_level:
            self._level = root.level
            root.setLevel(logging.WARNING)
        root.addHandler(self)
        return self

    def __exit__(self, *exc):
        root = logging.getLogger()
        root.removeHandler(self)
        if self._root_level:
            root.setLevel(self._level)
        return False
