"""G.711 µ-law: decoder against FFmpeg's, packetizer and depacketizer."""

from __future__ import annotations

import array
import sys

import av
import pytest

from ipcam_async.errors import InvalidArgument
from ipcam_async.rtp.clock import MediaClock
from ipcam_async.rtp.frames import AudioFrame, VideoFrame
from ipcam_async.rtp.packet import RtpPacket
from ipcam_async.rtp.pcmu import (
    PcmuDepacketizer,
    PcmuPacketizer,
    linear_to_ulaw,
    pcm16_to_ulaw,
    ulaw_to_linear,
    ulaw_to_pcm16,
)

ALL_CODES = bytes(range(256))


def ffmpeg_reference() -> list[int]:
    """Decode all 256 µ-law codes with FFmpeg's pcm_mulaw decoder."""
    codec = av.CodecContext.create("pcm_mulaw", "r")
    codec.sample_rate = 8000
    codec.layout = "mono"
    samples: list[int] = []
    for frame in codec.decode(av.Packet(ALL_CODES)):
        samples.extend(int(v) for v in frame.to_ndarray().ravel())
    return samples


def test_decoder_matches_ffmpeg_for_all_256_codes() -> None:
    reference = ffmpeg_reference()
    assert len(reference) == 256
    assert [ulaw_to_linear(c) for c in range(256)] == reference
    pcm = array.array("h")
    pcm.frombytes(ulaw_to_pcm16(ALL_CODES))
    if sys.byteorder != "little":
        pcm.byteswap()
    assert pcm.tolist() == reference
    # G.711 anchors: 0x00 is the most negative, 0x80 the most positive, 0xFF and 0x7F zero
    assert (reference[0x00], reference[0x80], reference[0xFF], reference[0x7F]) == (
        -32124,
        32124,
        0,
        0,
    )


def test_big_endian_output_and_encoder_round_trip() -> None:
    big = ulaw_to_pcm16(b"\x00\x80", byteorder="big")
    assert big == (-32124).to_bytes(2, "big", signed=True) + (32124).to_bytes(2, "big", signed=True)
    decoded = [ulaw_to_linear(c) for c in range(256)]
    assert [ulaw_to_linear(linear_to_ulaw(v)) for v in decoded] == decoded
    assert linear_to_ulaw(0) == 0xFF
    assert linear_to_ulaw(40000) == 0x80 and linear_to_ulaw(-40000) == 0x00
    assert pcm16_to_ulaw(ulaw_to_pcm16(ALL_CODES)) == bytes(
        c if c != 0x7F else 0xFF for c in ALL_CODES
    )
    with pytest.raises(InvalidArgument):
        pcm16_to_ulaw(b"\x00")
    with pytest.raises(InvalidArgument):
        ulaw_to_pcm16(b"", byteorder="middle")


def test_packetize_and_depacketize() -> None:
    audio = bytes(i % 256 for i in range(1000))
    pk = PcmuPacketizer(ssrc=3, seq=65535)
    packets = pk.packetize(audio, 0xFFFFFF00, marker=True)
    parsed = [RtpPacket.parse(p) for p in packets]
    assert [len(p.payload) for p in parsed] == [160] * 6 + [40]
    assert [p.timestamp for p in parsed] == [(0xFFFFFF00 + 160 * i) & 0xFFFFFFFF for i in range(7)]
    assert [p.sequence for p in parsed] == [65535, 0, 1, 2, 3, 4, 5]
    assert [p.marker for p in parsed] == [True] + [False] * 6
    assert {p.payload_type for p in parsed} == {0}
    dep = PcmuDepacketizer(clock=MediaClock(8000), track=2)
    out: list[VideoFrame | AudioFrame] = []
    for i, p in enumerate(parsed):
        if i != 3:
            dep.push(p, i == 4, out)
    frames = [f for f in out if isinstance(f, AudioFrame)]
    assert b"".join(f.data for f in frames) == audio[:480] + audio[640:]
    assert [f.lost for f in frames] == [False, False, False, True, False, False]
    # the extended timestamp keeps growing across the 32-bit wrap
    assert [f.ext_timestamp for f in frames] == [0xFFFFFF00 + 160 * i for i in (0, 1, 2, 4, 5, 6)]
    assert frames[0].duration == pytest.approx(0.02)
    assert frames[0].track == 2 and frames[0].codec == "PCMU" and frames[0].sample_rate == 8000


def test_audio_frames_are_always_keyframes() -> None:
    # Code that checks frame.keyframe on a mixed video + audio stream must not crash on audio.
    frame = AudioFrame(
        track=1, codec="PCMU", timestamp=0, ext_timestamp=0, wallclock=None, lost=False,
        data=b"\xff" * 160, sample_rate=8000,
    )  # fmt: skip
    assert frame.keyframe is True
    assert frame.duration == 0.02
