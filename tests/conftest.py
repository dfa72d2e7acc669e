"""Shared test helpers.

Interop tests need third-party peers (FFmpeg, GStreamer). On a developer machine without them a test
is skipped with the reason; under CI (``CI=true``) a missing tool is a failure, never a silent pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_tool(name: str) -> str:
    """Return the path of executable ``name``; skip (locally) or fail (in CI) when it is missing."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (scripts/install-test-deps.sh installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def require_gst_element(element: str) -> None:
    """Skip (locally) or fail (in CI) when a GStreamer element is missing."""
    inspect = require_tool("gst-inspect-1.0")
    ok = subprocess.run([inspect, element], capture_output=True, timeout=30).returncode == 0
    if not ok:
        message = f"GStreamer element {element} is missing (scripts/install-test-deps.sh)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
