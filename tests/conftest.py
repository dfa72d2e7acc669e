"""Shared test helpers.

Interop tests need third-party peers (FFmpeg, GStreamer). On a developer machine without them a test
is skipped with the reason; under CI (``CI=true``) a missing tool is a failure, never a silent pass.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from types import ModuleType

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


@pytest.fixture(autouse=True)
def _empty_working_directory(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """Run every test in an empty working directory and fail it if it leaves a file there.

    Tests write to ``tmp_path`` only; a relative path that slipped through (a CLI default of
    ``.``, a tool writing a log next to itself) would otherwise land in the checkout.
    """
    cwd = tmp_path_factory.mktemp("cwd")
    monkeypatch.chdir(cwd)
    yield
    left = sorted(p.name for p in cwd.iterdir())
    assert not left, f"the test wrote {left} into the working directory instead of tmp_path"


def require_module(name: str) -> ModuleType:
    """Import and return module ``name``; skip (locally) or fail (in CI) when it is missing.

    Usable at module level too (the whole file is skipped then, as with ``importorskip``).
    """
    try:
        return importlib.import_module(name)
    except ImportError:
        message = f"Python package {name} is missing (pip install -e '.[test,speed]')"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message, allow_module_level=True)


def require_gst_element(element: str) -> None:
    """Skip (locally) or fail (in CI) when a GStreamer element is missing."""
    inspect = require_tool("gst-inspect-1.0")
    ok = subprocess.run([inspect, element], capture_output=True, timeout=30).returncode == 0
    if not ok:
        message = f"GStreamer element {element} is missing (scripts/install-test-deps.sh)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


# --- aioresponses on aiohttp >= 3.14 -------------------------------------------------------------
# aiohttp 3.14 added a required keyword-only ``stream_writer`` to ClientResponse.__init__, which
# aioresponses 0.7.9 does not pass yet; aiohttp only reads ``stream_writer.output_size`` from it.

import inspect  # noqa: E402
from types import SimpleNamespace  # noqa: E402
from typing import Any  # noqa: E402

import aiohttp  # noqa: E402
from aioresponses import aioresponses as _aioresponses  # noqa: E402

_NEEDS_STREAM_WRITER = (
    "stream_writer" in inspect.signature(aiohttp.ClientResponse.__init__).parameters
)


class _CompatClientResponse(aiohttp.ClientResponse):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if _NEEDS_STREAM_WRITER:
            kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(*args, **kwargs)


class MockedHttp(_aioresponses):  # type: ignore[misc]
    """aioresponses whose mocked responses also build on aiohttp 3.14 and later."""

    def add(self, url: Any, method: str = "GET", *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("response_class", _CompatClientResponse)
        super().add(url, method, *args, **kwargs)


@pytest.fixture
def mock_http() -> Any:
    """Intercept aiohttp client requests (for error paths a real server cannot easily produce)."""
    with MockedHttp() as mocked:
        yield mocked
