"""Property test: for any timestamp pattern, sample times follow the writer's stated rules."""

from __future__ import annotations

import itertools
import tempfile
from fractions import Fraction
from pathlib import Path

import av
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rec_helpers import encode_h264

from ipcam_async.record.mp4 import (
    AudioTrackConfig,
    FragmentedMp4Writer,
    parameters_from_access_unit,
)

CLIP = encode_h264(40, width=160, height=128, gop=10)
MAX_GAP = 10 * 90000

# Distance to the previous picture: normal, a few lost, a duplicate/backwards stamp, a jump.
steps = st.one_of(
    st.just(3000),
    st.sampled_from([6000, 9000, 3003, 2997]),
    st.sampled_from([0, -3000, -(1 << 20)]),
    st.sampled_from([MAX_GAP + 1, 1 << 33]),
)


def demux_video_times(path: Path) -> list[int]:
    """Presentation times of the video packets, in 90 kHz ticks, in file order."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.time_base == Fraction(1, 90000)
        return [p.pts for p in container.demux(stream) if p.size]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.integers(0, (1 << 34)),
    deltas=st.lists(steps, min_size=1, max_size=39),
    fragment=st.sampled_from([None, 0.05, 0.3]),
    audio=st.booleans(),
)
def test_sample_times_follow_the_timestamps(
    start: int, deltas: list[int], fragment: float | None, audio: bool
) -> None:
    stamps = [start]
    for delta in deltas:
        stamps.append(stamps[-1] + delta)
    frames = CLIP[: len(stamps)]
    # The model: a duration is the distance to the next stamp unless that is not in (0, max_gap],
    # then the previous duration (or one frame at 30 fps) stands in.
    expected = [0]
    last = 0
    for here, nxt in itertools.pairwise(stamps):
        step = nxt - here
        duration = step if 0 < step <= MAX_GAP else (last or 3000)
        last = duration
        expected.append(expected[-1] + duration)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.mp4"
        params = parameters_from_access_unit(frames[0][0])
        assert params is not None
        writer = FragmentedMp4Writer(
            path,
            params,
            audio=AudioTrackConfig() if audio else None,
            fragment_duration=fragment,
            wallclock=1.0e9,
        )
        for (au, key), stamp in zip(frames, stamps, strict=True):
            writer.add_video(au, stamp, key)
            if audio:
                writer.add_audio(b"\xff" * 100, stamp // 11)
        writer.close()
        assert writer.stats.discontinuities >= sum(1 for d in deltas if not 0 < d <= MAX_GAP)
        assert demux_video_times(path) == expected
