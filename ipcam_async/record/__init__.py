"""Recording: a crash-safe fragmented MP4 writer and a multi-camera recorder.

:class:`FragmentedMp4Writer` writes H.264 (+ PCMU) frames to a fragmented MP4 that stays playable
up to its last complete fragment if the process dies. :class:`SegmentedWriter` cuts one camera's
frames into segment files; :class:`Recorder` records many cameras at once, each in its own
supervised task.
"""

from __future__ import annotations

from .mp4 import AudioTrackConfig, FragmentedMp4Writer, ParameterSetsChanged, WriterStats
from .recorder import (
    CameraRecording,
    CameraStats,
    FrameSource,
    Recorder,
    RecordingTrigger,
    SourceFactory,
)
from .segments import SegmentedWriter, SegmentInfo

__all__ = [
    "AudioTrackConfig",
    "CameraRecording",
    "CameraStats",
    "FragmentedMp4Writer",
    "FrameSource",
    "ParameterSetsChanged",
    "Recorder",
    "RecordingTrigger",
    "SegmentInfo",
    "SegmentedWriter",
    "SourceFactory",
    "WriterStats",
]
