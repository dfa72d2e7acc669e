"""RtspStream over scripted servers: frames that decode, quirks, slow consumer, reconnects."""

from __future__ import annotations

import asyncio
import struct
import time
from typing import Any

import attrs
import pytest
from rtsp_media import FRAME_TICKS, SSRC, decode_h264, h264_access_units, video_packets
from rtsp_scripted_server import Conn, FakeCamera, Req, wait_until

from ipcam_async.errors import InvalidArgument, StreamTimeout
from ipcam_async.rtp.frames import AudioFrame, VideoFrame
from ipcam_async.rtp.h264 import split_annexb
from ipcam_async.rtp.pcmu import PcmuPacketizer
from ipcam_async.rtp.rtcp import build_sender_report
from ipcam_async.rtsp import ReconnectPolicy, RtspQuirks, RtspStream, open_camera_stream


def audio_packets(count: int) -> list[bytes]:
    pk = PcmuPacketizer(payload_type=0, ssrc=0x55, samples_per_packet=160, seq=7)
    return [p for i in range(count) for p in pk.packetize(bytes([i]) * 160, 8000 + i * 160)]


async def collect(stream: RtspStream, count: int, seconds: float = 5.0) -> list[Any]:
    out: list[Any] = []
    async with asyncio.timeout(seconds):
        async for frame in stream.frames():
            out.append(frame)
            if len(out) == count:
                break
    return out


def nals(data: bytes) -> list[bytes]:
    return [bytes(n) for n in split_annexb(data)]


def same_units(frames: list[Any], units: list[bytes]) -> bool:
    return [nals(f.data) for f in frames] == [nals(u) for u in units]


def video(frames: list[Any]) -> list[VideoFrame]:
    return [f for f in frames if isinstance(f, VideoFrame)]


async def test_h264_and_pcmu_over_tcp_decode() -> None:
    units = h264_access_units()
    cam = FakeCamera(packets={0: video_packets(units), 1: audio_packets(20)})
    async with cam, RtspStream(cam.url(), audio=True) as stream:
        frames = await collect(stream, len(units) + 20)
        stats = stream.stats
        assert stream.sdp is not None and len(stream.sdp.media) == 2
    vids = video(frames)
    auds = [f for f in frames if isinstance(f, AudioFrame)]
    assert same_units(vids, units)
    assert decode_h264([v.data for v in vids]) == len(vids)
    assert vids[0].keyframe and (vids[0].width, vids[0].height) == (160, 96)
    assert len(auds) == 20 and auds[3].data == bytes([3]) * 160
    assert stats.tracks[0].frames >= len(vids) and stats.tracks[1].packets == 20
    assert stats.transport == "tcp" and stats.dropped_frames == 0


async def test_h264_over_udp() -> None:
    units = h264_access_units()
    cam = FakeCamera(packets={0: video_packets(units)}, interval=0.0005)
    async with cam, RtspStream(cam.url(), transport="udp") as stream:
        frames = await collect(stream, len(units))
        assert stream.stats.transport == "udp"
    assert same_units(frames, units)
    assert decode_h264([v.data for v in video(frames)]) == len(units)


async def test_quirk_missing_marker_bits_split_on_timestamp() -> None:
    units = h264_access_units()
    cam = FakeCamera(packets={0: video_packets(units, marker=False)})
    async with cam, RtspStream(cam.url()) as stream:
        frames = await collect(stream, len(units) - 1)
    # The last unit has no successor to end it.
    assert same_units(frames, units[:-1])


async def test_quirk_fua_with_start_and_end_bits() -> None:
    units = h264_access_units()
    nals = [bytes(n) for n in split_annexb(units[0])]
    header = struct.pack("!BBHII", 0x80, 99, 1, 90000, SSRC)
    packets = []
    for i, nal in enumerate(nals):
        fu_indicator = (nal[0] & 0xE0) | 28
        fu_header = 0x80 | 0x40 | (nal[0] & 0x1F)
        marker = 0x80 if i == len(nals) - 1 else 0
        hdr = bytearray(header)
        hdr[1] |= marker
        hdr[2:4] = (1 + i).to_bytes(2, "big")
        packets.append(bytes(hdr) + bytes((fu_indicator, fu_header)) + nal[1:])
    cam = FakeCamera(packets={0: packets})
    async with cam, RtspStream(cam.url()) as stream:
        (frame,) = await collect(stream, 1)
    assert same_units([frame], units[:1]) and frame.keyframe


def annexb_single_nal_packets(units: list[bytes]) -> list[bytes]:
    """Each access unit as ONE 'single NAL' packet whose payload is the raw Annex B bytes."""
    out = []
    for i, au in enumerate(units):
        payload = au[4:]  # drop the leading start code; the rest stays glued with start codes
        header = struct.pack("!BBHII", 0x80, 0x80 | 99, 500 + i, 90000 + i * FRAME_TICKS, SSRC)
        out.append(header + payload)
    return out


async def test_quirk_annexb_start_codes_inside_single_nal_payloads() -> None:
    units = h264_access_units()[:10]
    cam = FakeCamera(packets={0: annexb_single_nal_packets(units)})
    quirks = RtspQuirks(annexb_in_payload=True)
    async with cam, RtspStream(cam.url(), quirks=quirks) as stream:
        frames = await collect(stream, 10)
    assert same_units(frames, units)
    assert decode_h264([f.data for f in frames]) == 10


@pytest.mark.parametrize("policy", ["drop", "accept"])
async def test_quirk_stray_payload_types(policy: str) -> None:
    units = h264_access_units()[:10]
    cam = FakeCamera(packets={0: video_packets(units, pt=100)})
    quirks = RtspQuirks(stray_payload_types=policy)  # type: ignore[arg-type]
    async with cam, RtspStream(cam.url(), quirks=quirks) as stream:
        if policy == "accept":
            frames = await collect(stream, 10)
            assert same_units(frames, units)
        else:
            with pytest.raises(TimeoutError):
                await collect(stream, 1, seconds=0.5)
            assert stream.stats.tracks[0].stray_packets == len(video_packets(units))


async def test_quirk_ssrc_changing_every_gop() -> None:
    units = h264_access_units()  # GOP of 10
    packets: list[bytes] = []
    for gop in range(3):
        packets += video_packets(
            units[gop * 10 : gop * 10 + 10], ssrc=0x1000 + gop, seq=100 + gop * 3000
        )
    cam = FakeCamera(packets={0: packets})
    quirks = RtspQuirks(ssrc_change="follow")
    async with cam, RtspStream(cam.url(), quirks=quirks) as stream:
        frames = await collect(stream, 27)
    keyframes = [f for f in frames if f.keyframe]
    assert len(keyframes) == 3
    assert decode_h264([f.data for f in frames]) == len(frames)


@pytest.mark.parametrize("policy", ["ignore", "accept"])
async def test_quirk_unknown_ssrc_in_rtcp(policy: str) -> None:
    units = h264_access_units()[:10]
    packets = video_packets(units)
    cam = FakeCamera(packets={0: packets[:3]})
    quirks = RtspQuirks(unknown_rtcp_ssrc=policy)  # type: ignore[arg-type]
    now = time.time()
    async with cam, RtspStream(cam.url(), quirks=quirks) as stream:
        await asyncio.sleep(0.1)
        conn = cam.server.connections[0]
        sr = build_sender_report(
            ssrc=0xDEAD, ntp_time=now, rtp_timestamp=90000, packet_count=1, octet_count=1
        )
        cam.send_packet(conn, 0, sr, rtcp=True)
        for pkt in packets[3:]:
            cam.send_packet(conn, 0, pkt)
        frames = await collect(stream, 9)
    if policy == "accept":
        assert frames[1].wallclock == pytest.approx(now + FRAME_TICKS / 90000, abs=1e-3)
    else:
        assert all(f.wallclock is None for f in frames)


@pytest.mark.parametrize(("policy", "lost"), [("auto", 0), ("ignore", 0)])
async def test_quirk_rtp_info_fake_seq_zero(policy: str, lost: int) -> None:
    units = h264_access_units()[:10]
    cam = FakeCamera(packets={0: video_packets(units, seq=5000)})

    async def play(conn: Conn, req: Req) -> None:
        conn.respond(
            req,
            headers=[("Session", "S"), ("RTP-Info", f"url={req.url}track1;seq=0;rtptime=0")],
        )
        cam.start_sending(conn)

    cam.overrides["PLAY"] = play
    quirks = RtspQuirks(rtp_info_seq=policy)  # type: ignore[arg-type]
    async with cam, RtspStream(cam.url(), quirks=quirks) as stream:
        frames = await collect(stream, 10)
        assert stream.stats.tracks[0].lost == lost
    assert same_units(frames, units)


async def test_slow_consumer_drops_to_next_keyframe_bounded() -> None:
    units = h264_access_units()[:24]  # keyframes at 0, 10, 20
    cam = FakeCamera(packets={0: video_packets(units)})
    async with cam, RtspStream(cam.url(), max_queue=4) as stream:
        # Do not consume until every frame went through the receiver.
        await wait_until(lambda: stream.stats.tracks[0].frames >= 24, 5.0)
        assert stream.stats.queued <= 4
        frames = []
        async with asyncio.timeout(0.5):
            async for frame in stream.frames():
                frames.append(frame)
                if len(frames) == 4:
                    break
        stats = stream.stats
    # Queue of 4: frame 4 overflows it → 0..3 flushed, 4..9 skipped until keyframe 10; the
    # same at 14; 20..23 stay queued.
    assert stats.dropped_frames == 24 - 4
    assert frames[0].keyframe and frames[0].lost
    assert same_units(frames[:1], units[20:21])
    assert decode_h264([f.data for f in frames]) == 4


async def test_reconnect_keeps_iterator_alive_with_discontinuity() -> None:
    units = h264_access_units()[:10]
    cam = FakeCamera(packets={0: video_packets(units)})
    plays = 0

    async def play(conn: Conn, req: Req) -> None:
        nonlocal plays
        plays += 1
        await cam.default(conn, req)
        if plays == 1:

            async def drop() -> None:
                await asyncio.sleep(0.2)
                conn.writer.transport.abort()

            asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(drop()))

    cam.overrides["PLAY"] = play
    policy = ReconnectPolicy(initial_delay=0.05, jitter=0.1)
    async with cam, RtspStream(cam.url(), reconnect=policy) as stream:
        frames = await collect(stream, 20)
        assert stream.stats.reconnects == 1
    assert not any(f.discontinuity for f in frames[:10])
    assert frames[10].discontinuity and frames[10].keyframe
    assert not any(f.discontinuity for f in frames[11:])


async def test_failure_without_reconnect_ends_iterator_with_error() -> None:
    cam = FakeCamera(packets={0: video_packets(h264_access_units()[:3])})
    async with cam, RtspStream(cam.url(), data_timeout=0.3) as stream:
        with pytest.raises(StreamTimeout):
            await collect(stream, 100)


async def test_454_re_establishes_the_session_once() -> None:
    units = h264_access_units()[:10]
    cam = FakeCamera(packets={0: video_packets(units)}, session="S;timeout=1")
    answered = 0

    async def keepalive(conn: Conn, req: Req) -> None:
        nonlocal answered
        answered += 1
        if answered == 1:
            conn.respond(req, 454, "Session Not Found")
        else:
            conn.respond(req, headers=cam.session_headers())

    cam.overrides["GET_PARAMETER"] = keepalive
    async with cam, RtspStream(cam.url(), data_timeout=None) as stream:
        frames = await collect(stream, 20, seconds=5)
        assert stream.stats.reconnects == 1
    assert frames[10].discontinuity
    assert cam.server.methods().count("PLAY") == 2


async def test_pause_resume_and_bad_arguments() -> None:
    cam = FakeCamera()
    async with cam, RtspStream(cam.url()) as stream:
        await stream.pause()
        await stream.resume()
    assert cam.server.methods()[-3:] == ["PAUSE", "PLAY", "TEARDOWN"]
    with pytest.raises(InvalidArgument):
        RtspStream(cam.url(), max_queue=0)
    with pytest.raises(InvalidArgument):
        RtspStream(cam.url(), video=False, audio=False)


@attrs.define
class FakeCam:
    port: int
    timeout: float = 5.0

    def rtsp_url(self, name: str) -> str:
        return f"rtsp://127.0.0.1:{self.port}/{name}"

    def _credentials(self) -> tuple[str | None, str | None]:
        return "admin", "1234"


async def test_open_camera_stream_names() -> None:
    units = h264_access_units()[:5]
    cam = FakeCamera(packets={0: video_packets(units)})
    async with cam:
        fake = FakeCam(cam.server.port)
        with pytest.raises(InvalidArgument):
            open_camera_stream(fake, "mpeg4")  # type: ignore[arg-type]
        async with open_camera_stream(fake, "h264_2") as stream:  # type: ignore[arg-type]
            frames = await collect(stream, 4)
        assert frames[0].keyframe
        assert cam.server.requests[0].url.endswith("/h264_2")
