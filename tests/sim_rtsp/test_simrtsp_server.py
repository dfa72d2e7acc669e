"""The simulated camera's RTSP server over real loopback sockets, checked with a raw client."""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections.abc import AsyncIterator, Callable

import attrs
import pytest
from conftest import require_module
from simrtsp_helpers import (
    RawRtsp,
    Response,
    basic_header,
    decode_h264,
    digest_header,
    h264_access_units,
    parse_rtp,
    udp_pair,
)

from ipcam_async.rtp.rtcp import SenderReport, parse_rtcp
from ipcam_async.sim.rtsp import PUBLIC_METHODS, RtspFaults, RtspServer, StreamSource
from ipcam_async.sim.rtsp.media import default_streams

H264_TRACK1 = "h264/track1"


def short_streams() -> dict[str, StreamSource]:
    """The packaged paths plus ``short``: the first 10 frames of the 360p clip (a 1/3 s loop)."""
    streams = default_streams()
    small = streams["h264_3"]
    clip = attrs.evolve(small.video, frames=small.video.frames[:10])
    streams["short"] = StreamSource(clip, None)
    return streams


@pytest.fixture
async def server() -> AsyncIterator[RtspServer]:
    async with RtspServer(streams=short_streams()) as srv:
        yield srv
    assert srv.sessions == {}
    assert srv._pacer is not None and srv._pacer.scheduled == 0


async def setup_tcp(c: RawRtsp, path: str, tracks: tuple[int, ...] = (1, 2)) -> Response:
    session = None
    resp: Response | None = None
    for n in tracks:
        headers = {"Transport": f"RTP/AVP/TCP;unicast;interleaved={2 * n - 2}-{2 * n - 1}"}
        if session:
            headers["Session"] = session
        resp = await c.request("SETUP", c.url(f"{path}/track{n}"), headers)
        assert resp.status == 200, resp
        session = resp.session
    assert resp is not None
    return resp


async def wait_until(condition: Callable[[], bool], deadline: float = 10.0) -> None:
    """Poll ``condition`` until it holds; fail after ``deadline`` seconds (a loaded CI machine)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not condition():
        assert loop.time() < end, "condition not reached in time"
        await asyncio.sleep(0.01)


def udp_transport(port: int) -> str:
    return f"RTP/AVP;unicast;client_port={port}-{port + 1}"


def rtp_info(resp: Response) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for item in (resp.get("RTP-Info") or "").split(","):
        fields = dict(f.split("=", 1) for f in item.split(";"))
        out[fields["url"].rsplit("/", 1)[-1]] = fields
    return out


async def test_options_lists_the_spec_methods(server: RtspServer) -> None:
    async with RawRtsp("127.0.0.1", server.port) as c:
        resp = await c.request("OPTIONS", "*")
    assert resp.status == 200
    assert resp.get("Public") == "OPTIONS, DESCRIBE, SETUP, TEARDOWN, PLAY, PAUSE"
    assert resp.get("CSeq") == "1"
    assert resp.get(
        "Date",
    ).endswith("GMT")  # type: ignore[union-attr]
    assert tuple(m.strip() for m in resp.get("Public").split(",")) == PUBLIC_METHODS  # type: ignore[union-attr]


async def test_describe_h264_has_the_spec_shape(server: RtspServer) -> None:
    async with RawRtsp("127.0.0.1", server.port) as c:
        resp = await c.request("DESCRIBE", c.url("h264"), {"Accept": "application/sdp"})
    assert resp.status == 200
    assert resp.get("Content-Type") == "application/sdp"
    assert resp.get("Content-Base") == c.url("h264/")
    assert int(resp.get("Content-Length") or 0) == len(resp.body)
    sdp = resp.body.decode().split("\r\n")
    assert sdp[0] == "v=0"
    assert "a=control:*" in sdp
    video = sdp.index("m=video 0 RTP/AVP 99")
    audio = sdp.index("m=audio 0 RTP/AVP 0")
    assert video < audio
    vlines = sdp[video:audio]
    assert "a=rtpmap:99 H264/90000" in vlines
    fmtp = next(x for x in vlines if x.startswith("a=fmtp:99 "))
    params = dict(p.split("=", 1) for p in fmtp[len("a=fmtp:99 ") :].split(";"))
    clip = default_streams()["h264"].video
    assert params["packetization-mode"] == "1"
    assert params["profile-level-id"] == clip.sps[1:4].hex().upper()
    sps, pps = (base64.b64decode(x) for x in params["sprop-parameter-sets"].split(","))
    assert (sps, pps) == (clip.sps, clip.pps)
    assert "a=control:track1" in vlines
    assert "a=cliprect:0,0,1920,1080" in vlines
    assert "a=framerate:30.000000" in vlines
    alines = sdp[audio:]
    assert "a=rtpmap:0 PCMU/8000/1" in alines
    assert "a=control:track2" in alines


async def test_describe_jpeg_and_quad_paths(server: RtspServer) -> None:
    async with RawRtsp("127.0.0.1", server.port) as c:
        jpeg = await c.request("DESCRIBE", c.url("jpeg"))
        sizes = {}
        for path in ("h264", "h264_2", "h264_3", "h264_4"):
            resp = await c.request("DESCRIBE", c.url(path))
            assert resp.status == 200
            line = next(x for x in resp.body.decode().split("\r\n") if "cliprect" in x)
            sizes[path] = line.split(":", 1)[1]
        missing = await c.request("DESCRIBE", c.url("h264_5"))
        refused = await c.request("DESCRIBE", c.url("h264"), {"Accept": "text/html"})
    assert "m=video 0 RTP/AVP 26" in jpeg.body.decode()
    assert "a=rtpmap:26 JPEG/90000" in jpeg.body.decode()
    assert sizes == {
        "h264": "0,0,1920,1080",
        "h264_2": "0,0,1280,720",
        "h264_3": "0,0,640,360",
        "h264_4": "0,0,640,360",
    }
    assert missing.status == 404
    assert refused.status == 406


async def test_udp_unicast_play_is_paced_with_rtp_info_and_sender_reports(
    server: RtspServer,
) -> None:
    video, audio = await udp_pair(), await udp_pair()
    try:
        async with RawRtsp("127.0.0.1", server.port) as c:
            s1 = await c.request(
                "SETUP",
                c.url(H264_TRACK1),
                {"Transport": f"RTP/AVP;unicast;client_port={video.rtp_port}-{video.rtp_port + 1}"},
            )
            assert s1.status == 200
            session = s1.session
            assert session and s1.get("Session") == f"{session};timeout=60"
            transport = s1.get("Transport") or ""
            assert transport.startswith("RTP/AVP;unicast;destination=127.0.0.1;source=127.0.0.1;")
            assert f"client_port={video.rtp_port}-{video.rtp_port + 1}" in transport
            port = server.udp_ports[1]
            assert f"server_port={port}-{port + 1}" in transport
            s2 = await c.request(
                "SETUP",
                c.url("h264/track2"),
                {"Transport": udp_transport(audio.rtp_port), "Session": session},
            )
            assert s2.status == 200 and s2.session == session
            loop = asyncio.get_running_loop()
            play_sent = loop.time()
            play = await c.request(
                "PLAY", c.url("h264/"), {"Session": session, "Range": "npt=0.000-"}
            )
            playing = loop.time()
            assert play.status == 200
            assert play.get("Range") == "npt=0.000-"
            info = rtp_info(play)
            assert set(info) == {"track1", "track2"}
            assert info["track1"]["url"] == c.url("h264/track1")
            await asyncio.sleep(1.2)
            teardown_sent = loop.time()
            teardown = await c.request("TEARDOWN", c.url("h264"), {"Session": session})
            stopped = loop.time()
            assert teardown.status == 200
            await asyncio.sleep(0.1)
            after = len(video.rtp.packets)
            await asyncio.sleep(0.2)
            assert len(video.rtp.packets) == after, "packets kept coming after TEARDOWN"
        vpk = video.rtp.rtp()
        apk = audio.rtp.rtp()
        assert vpk[0].seq == int(info["track1"]["seq"])
        assert vpk[0].ts == int(info["track1"]["rtptime"])
        assert apk[0].seq == int(info["track2"]["seq"])
        assert {p.pt for p in vpk} == {99} and {p.pt for p in apk} == {0}
        for pk in (vpk, apk):
            seqs = [p.seq for p in pk]
            assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs))
        # Paced in real time: 30 fps video, 50 packets/s audio over the time the stream played.
        # The sleep above may overrun on a loaded machine, so the bounds are the measured
        # PLAY..TEARDOWN window (plus a few frames for a timer that fired late).
        shortest, longest = teardown_sent - playing, stopped - play_sent
        frames = sum(1 for p in vpk if p.marker)
        assert 30 * shortest - 5 <= frames <= 30 * longest + 2, (frames, shortest, longest)
        assert 50 * shortest - 8 <= len(apk) <= 50 * longest + 2, (len(apk), shortest, longest)
        stamps = sorted({p.ts for p in vpk})
        assert all(b - a == 3000 for a, b in itertools.pairwise(stamps))
        assert all(len(p.payload) + 12 <= 1400 for p in vpk)
        units = h264_access_units(vpk)
        assert set(decode_h264(units)) == {(1920, 1080)}
        # RTCP: an SR for each track's SSRC on the client's RTCP port, then a BYE at TEARDOWN.
        reports = [r for d, _ in video.rtcp.packets for r in parse_rtcp(d)]
        srs = [r for r in reports if isinstance(r, SenderReport)]
        assert srs and all(r.ssrc == vpk[0].ssrc for r in srs)
        assert any(type(r).__name__ == "Bye" for r in reports)
        first = srs[0]
        assert 0 <= (first.rtp_timestamp - vpk[0].ts) & 0xFFFFFFFF < 9000
        assert any(
            isinstance(r, SenderReport) for d, _ in audio.rtcp.packets for r in parse_rtcp(d)
        )
    finally:
        video.close()
        audio.close()


async def test_tcp_interleaved_play_decodes(server: RtspServer) -> None:
    async with RawRtsp("127.0.0.1", server.port) as c:
        setup = await setup_tcp(c, "h264_2")
        assert (setup.get("Transport") or "").startswith("RTP/AVP/TCP;unicast;interleaved=2-3")
        play = await c.request("PLAY", c.url("h264_2"), {"Session": setup.session or ""})
        assert play.status == 200
        await c.pump(1.0)
        await c.request("TEARDOWN", c.url("h264_2"), {"Session": setup.session or ""})
    video = c.rtp(0)
    audio = c.rtp(2)
    assert video and audio
    assert video[0].seq == int(rtp_info(play)["track1"]["seq"])
    sizes = decode_h264(h264_access_units(video))
    assert len(sizes) >= 20 and set(sizes) == {(1280, 720)}
    assert any(c_ == 1 for c_, _, _ in c.frames), "RTCP SR on the odd channel"


async def test_clip_loops_with_continuous_sequence_and_timestamps(server: RtspServer) -> None:
    async with RawRtsp("127.0.0.1", server.port) as c:
        setup = await setup_tcp(c, "short", tracks=(1,))
        await c.request("PLAY", c.url("short"), {"Session": setup.session or ""})
        # More than three loops of the 10-frame clip (1.1 s at 30 fps; longer when loaded).
        await c.pump_until(lambda: sum(p.marker for p in c.rtp(0)) >= 33)
    packets = c.rtp(0)
    seqs = [p.seq for p in packets]
    assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs))
    stamps = [p.ts for p in packets if p.marker]
    assert len(stamps) >= 30
    assert all((b - a) & 0xFFFFFFFF == 3000 for a, b in itertools.pairwise(stamps))
    sizes = decode_h264(h264_access_units(packets))
    assert len(sizes) == len(stamps)


async def test_jpeg_over_tcp(server: RtspServer) -> None:
    from ipcam_async.rtp.jpeg import parse_jfif  # noqa: F401  (the RTP stack must be present)

    async with RawRtsp("127.0.0.1", server.port) as c:
        setup = await setup_tcp(c, "jpeg", tracks=(1,))
        await c.request("PLAY", c.url("jpeg"), {"Session": setup.session or ""})
        await c.pump(0.5)
    packets = c.rtp(0)
    assert packets and {p.pt for p in packets} == {26}
    first = packets[0].payload
    # RFC 2435 main header: type 1 (4:2:0), Q 255 (tables in band), 640x360 in 8-pixel units.
    assert first[4] == 1 and first[5] == 255 and first[6] == 640 // 8 and first[7] == 360 // 8


async def test_multicast_on_loopback_reaches_every_member(server: RtspServer) -> None:
    import socket as socketlib
    import struct

    async with (
        RawRtsp("127.0.0.1", server.port) as a,
        RawRtsp("127.0.0.1", server.port) as b,
    ):
        replies = []
        for c in (a, b):
            resp = await c.request(
                "SETUP", c.url("h264_3/track1"), {"Transport": "RTP/AVP;multicast"}
            )
            assert resp.status == 200
            replies.append(resp)
        transport = replies[0].get("Transport") or ""
        assert transport == replies[1].get("Transport")
        fields = dict(f.split("=", 1) for f in transport.split(";") if "=" in f)
        assert transport.startswith("RTP/AVP;multicast;")
        group, port = fields["destination"], int(fields["port"].split("-")[0])
        assert fields["ttl"] == "1"
        socks = []
        for _ in range(2):
            s = socketlib.socket(socketlib.AF_INET, socketlib.SOCK_DGRAM)
            s.setsockopt(socketlib.SOL_SOCKET, socketlib.SO_REUSEADDR, 1)
            s.bind((group, port))
            mreq = struct.pack("4s4s", socketlib.inet_aton(group), socketlib.inet_aton("127.0.0.1"))
            s.setsockopt(socketlib.IPPROTO_IP, socketlib.IP_ADD_MEMBERSHIP, mreq)
            s.setblocking(False)
            socks.append(s)
        try:
            play_a = await a.request("PLAY", a.url("h264_3"), {"Session": replies[0].session or ""})
            await asyncio.sleep(0.3)
            play_b = await b.request("PLAY", b.url("h264_3"), {"Session": replies[1].session or ""})
            assert play_a.status == play_b.status == 200
            # Both members share one stream: the second PLAY reports a later point of it.
            sa, sb = (int(rtp_info(p)["track1"]["seq"]) for p in (play_a, play_b))
            assert 0 < (sb - sa) & 0xFFFF < 1000
            await asyncio.sleep(0.3)
            received = []
            for s in socks:
                got = []
                while True:
                    try:
                        got.append(parse_rtp(s.recv(2048)))
                    except BlockingIOError:
                        break
                received.append(got)
            assert received[0] and received[1]
            assert {p.ssrc for p in received[0]} == {p.ssrc for p in received[1]}
            assert [p.seq for p in received[0]] == [p.seq for p in received[1]]
            # A member leaving does not stop the group for the other.
            await a.request("TEARDOWN", a.url("h264_3"), {"Session": replies[0].session or ""})
            await asyncio.sleep(0.2)
            for s in socks:
                while True:
                    try:
                        s.recv(2048)
                    except BlockingIOError:
                        break
            await asyncio.sleep(0.2)
            assert socks[1].recv(2048)
            await b.request("TEARDOWN", b.url("h264_3"), {"Session": replies[1].session or ""})
        finally:
            for s in socks:
                s.close()


async def test_pause_stops_and_play_resumes_the_same_stream(server: RtspServer) -> None:
    loop = asyncio.get_running_loop()
    async with RawRtsp("127.0.0.1", server.port) as c:
        setup = await setup_tcp(c, "h264_3", tracks=(1,))
        session = setup.session or ""
        await c.request("PLAY", c.url("h264_3"), {"Session": session})
        await c.pump(0.4)
        pause_sent = loop.time()
        pause = await c.request("PAUSE", c.url("h264_3"), {"Session": session})
        paused = loop.time()
        assert pause.status == 200 and pause.session == session
        before = len(c.rtp(0))
        await c.pump(0.4)
        assert len(c.rtp(0)) == before
        again = await c.request("PAUSE", c.url("h264_3"), {"Session": session})
        assert again.status == 455
        resume_sent = loop.time()
        resume = await c.request("PLAY", c.url("h264_3"), {"Session": session})
        resumed = loop.time()
        await c.pump_until(lambda: len(c.rtp(0)) > before)
    packets = c.rtp(0)
    last_before = packets[before - 1]
    first_after = packets[before]
    assert first_after.seq == (last_before.seq + 1) & 0xFFFF
    assert first_after.seq == int(rtp_info(resume)["track1"]["seq"])
    assert first_after.ssrc == last_before.ssrc
    # The RTP clock kept running during the pause (live source): the timestamps jump by the
    # time the server was paused (measured around the PAUSE and PLAY round trips) plus at most
    # one frame interval.
    jump = (first_after.ts - last_before.ts) & 0xFFFFFFFF
    assert jump > 0.4 * 90000
    assert (resume_sent - paused) * 90000 < jump < (resumed - pause_sent) * 90000 + 3000 + 90


async def test_rfc2326_errors(server: RtspServer) -> None:
    async with RawRtsp("127.0.0.1", server.port) as c:
        assert (await c.request("PLAY", c.url("h264"))).status == 455
        assert (await c.request("PLAY", c.url("h264"), {"Session": "nope"})).status == 454
        assert (await c.request("TEARDOWN", c.url("h264"), {"Session": "nope"})).status == 454
        assert (await c.request("OPTIONS", "*", {"Session": "nope"})).status == 454
        bad = await c.request("SETUP", c.url(H264_TRACK1), {"Transport": "RTP/SAVP;unicast"})
        assert bad.status == 461
        no_port = await c.request("SETUP", c.url(H264_TRACK1), {"Transport": "RTP/AVP;unicast"})
        assert no_port.status == 461
        assert (await c.request("SETUP", c.url(H264_TRACK1))).status == 461
        assert (await c.request("SETUP", c.url("h264/track9"))).status == 404
        setup = await setup_tcp(c, "h264", tracks=(1,))
        session = setup.session or ""
        twice = await c.request(
            "SETUP",
            c.url(H264_TRACK1),
            {"Transport": "RTP/AVP/TCP;unicast", "Session": session},
        )
        assert twice.status == 455
        other = await c.request(
            "SETUP", c.url("jpeg/track1"), {"Transport": "RTP/AVP/TCP;unicast", "Session": session}
        )
        assert other.status == 459
        assert (await c.request("PAUSE", c.url("h264"), {"Session": session})).status == 455
        await setup_tcp_track2(c, session)
        track_play = await c.request("PLAY", c.url(H264_TRACK1), {"Session": session})
        assert track_play.status == 460
        bad_range = await c.request(
            "PLAY", c.url("h264"), {"Session": session, "Range": "clock=19961108T142300Z-"}
        )
        assert bad_range.status == 457
        assert (await c.request("PLAY", c.url("jpeg"), {"Session": session})).status == 459
        get = await c.request("GET_PARAMETER", c.url("h264"))
        assert get.status == 405 and get.get("Allow") == ", ".join(PUBLIC_METHODS)
        assert (await c.request("FROB", c.url("h264"))).status == 501
        assert (await c.request("OPTIONS", "*", version="RTSP/2.0")).status == 505
        assert (await c.request("OPTIONS", "*", cseq=False)).status == 400
        assert (await c.request("TEARDOWN", c.url("h264"), {"Session": session})).status == 200
        # Malformed bytes: 400 and the connection is closed.
        await c.send_raw(b"\x01\x02 garbage\r\n\r\n")
        resp = await c.read_response()
        assert resp.status == 400
        assert c.reader is not None
        assert await c.reader.read() == b""
    assert server.stats.statuses[454] == 3


async def setup_tcp_track2(c: RawRtsp, session: str) -> None:
    resp = await c.request(
        "SETUP", c.url("h264/track2"), {"Transport": "RTP/AVP/TCP;unicast", "Session": session}
    )
    assert resp.status == 200
    assert "interleaved=2-3" in (resp.get("Transport") or "")


async def test_sessions_expire_without_keepalive() -> None:
    async with RtspServer(session_timeout=0.5) as server:
        video = await udp_pair()
        try:
            async with RawRtsp("127.0.0.1", server.port) as c:
                transport = f"RTP/AVP;unicast;client_port={video.rtp_port}-{video.rtp_port + 1}"
                quiet = await c.request("SETUP", c.url(H264_TRACK1), {"Transport": transport})
                assert quiet.get(
                    "Session",
                ).endswith(";timeout=1")  # type: ignore[union-attr]
                kept = await c.request("SETUP", c.url("h264_2/track1"), {"Transport": transport})
                by_rtcp = await c.request(
                    "SETUP",
                    c.url("h264_3/track1"),
                    {"Transport": "RTP/AVP;unicast;client_port=40000-40001"},
                )
                assert quiet.status == kept.status == by_rtcp.status == 200
                loop = asyncio.get_running_loop()
                end = loop.time() + 1.0
                rtcp_port = server.udp_ports[1] + 1
                sender = video.transports[1]
                while loop.time() < end:
                    await c.request("OPTIONS", "*", {"Session": kept.session or ""})
                    await asyncio.sleep(0.1)
                assert sender is not None
                alive = await c.request("OPTIONS", "*", {"Session": kept.session or ""})
                assert alive.status == 200
                gone = await c.request("OPTIONS", "*", {"Session": quiet.session or ""})
                assert gone.status == 454
                assert by_rtcp.session not in server.sessions
                assert server.stats.sessions_expired >= 2
                assert rtcp_port > 0
        finally:
            video.close()


async def test_rtcp_receiver_reports_keep_a_udp_session_alive() -> None:
    async with RtspServer(session_timeout=0.5) as server:
        video = await udp_pair()
        try:
            async with RawRtsp("127.0.0.1", server.port) as c:
                transport = f"RTP/AVP;unicast;client_port={video.rtp_port}-{video.rtp_port + 1}"
                resp = await c.request("SETUP", c.url(H264_TRACK1), {"Transport": transport})
                session = resp.session or ""
                rr = b"\x80\xc9\x00\x01\x00\x00\x00\x01"  # empty receiver report
                loop = asyncio.get_running_loop()
                end = loop.time() + 1.0
                while loop.time() < end:
                    video.transports[1].sendto(rr, ("127.0.0.1", server.udp_ports[1] + 1))
                    await asyncio.sleep(0.1)
                assert session in server.sessions
                await asyncio.sleep(1.0)
                assert session not in server.sessions
        finally:
            video.close()


async def test_tcp_session_ends_with_its_connection(server: RtspServer) -> None:
    c = await RawRtsp("127.0.0.1", server.port).connect()
    setup = await setup_tcp(c, "h264")
    await c.request("PLAY", c.url("h264"), {"Session": setup.session or ""})
    await c.pump(0.2)
    await c.close()
    await wait_until(lambda: not server.sessions)
    assert server.sessions == {}


@pytest.mark.parametrize("mode", ["basic", "digest", "any"])
async def test_authentication(mode: str) -> None:
    users = {"admin": "1234", "viewer": "pw"}
    server = RtspServer(auth=mode, passwords=users.get, realm="IPCam")  # type: ignore[arg-type]
    async with server, RawRtsp("127.0.0.1", server.port) as c:
        assert (await c.request("OPTIONS", "*")).status == 200  # no auth for OPTIONS
        url = c.url("h264")
        challenge = await c.request("DESCRIBE", url)
        assert challenge.status == 401
        offered = challenge.headers["www-authenticate"]
        schemes = [v.split(" ")[0] for v in offered]
        assert (
            schemes == {"basic": ["Basic"], "digest": ["Digest"], "any": ["Digest", "Basic"]}[mode]
        )
        if mode in ("basic", "any"):
            c.auth = basic_header("viewer", "pw")
            assert (await c.request("DESCRIBE", url)).status == 200
            c.auth = basic_header("viewer", "wrong")
            assert (await c.request("DESCRIBE", url)).status == 401
        if mode in ("digest", "any"):
            digest = offered[0]
            for qop in (False, True):
                c.auth = digest_header("admin", "1234", "DESCRIBE", url, digest, qop=qop)
                assert (await c.request("DESCRIBE", url)).status == 200
            c.auth = digest_header("admin", "1234", "PLAY", url, digest)  # wrong method
            assert (await c.request("DESCRIBE", url)).status == 401
            c.auth = digest_header("admin", "bad", "DESCRIBE", url, digest)
            assert (await c.request("DESCRIBE", url)).status == 401
            server.auth.nonce_lifetime = 0.0
            await asyncio.sleep(0.01)
            c.auth = digest_header("admin", "1234", "DESCRIBE", url, digest)
            stale = await c.request("DESCRIBE", url)
            assert stale.status == 401
            assert 'stale="true"' in stale.headers["www-authenticate"][0]
        if mode == "basic":
            c.auth = basic_header("admin", "1234").replace("Basic", "Digest")
            assert (await c.request("DESCRIBE", url)).status == 401


async def test_injected_statuses() -> None:
    faults = RtspFaults()
    server = RtspServer(auth="digest", passwords={"admin": "1234"}.get, faults=faults)
    async with server, RawRtsp("127.0.0.1", server.port) as c:
        faults.fail_next(503, times=2, retry_after=3)
        first = await c.request("OPTIONS", "*")
        second = await c.request("DESCRIBE", c.url("h264"))
        assert first.status == second.status == 503
        assert first.get("Retry-After") == "3"
        url = c.url("h264")
        challenge = (await c.request("DESCRIBE", url)).headers["www-authenticate"][0]
        c.auth = digest_header("admin", "1234", "DESCRIBE", url, challenge)
        assert (await c.request("DESCRIBE", url)).status == 200
        faults.fail_next(401, methods=("DESCRIBE",))
        assert (await c.request("OPTIONS", "*")).status == 200
        forced = await c.request("DESCRIBE", url)
        assert forced.status == 401 and forced.get("WWW-Authenticate")
        assert (await c.request("DESCRIBE", url)).status == 200
    assert faults.rtsp_requests == 7


async def test_packet_faults_loss_duplicate_reorder() -> None:
    faults = RtspFaults(seed=7)
    server = RtspServer(streams=short_streams(), faults=faults)
    async with server, RawRtsp("127.0.0.1", server.port) as c:
        setup = await setup_tcp(c, "h264_2", tracks=(1,))
        faults.loss = 0.2
        faults.duplicate = 0.2
        faults.reorder = 0.2
        await c.request("PLAY", c.url("h264_2"), {"Session": setup.session or ""})
        await c.pump(0.8)
    seqs = [p.seq for p in c.rtp(0)]
    assert faults.packets_lost > 0 and faults.packets_duplicated > 0
    assert faults.packets_reordered > 0
    assert len(seqs) != len(set(seqs)), "duplicates expected"
    assert any((b - a) & 0xFFFF > 1 for a, b in itertools.pairwise(seqs)), "gaps expected"
    assert any((b - a) & 0xFFFF > 0x8000 for a, b in itertools.pairwise(seqs)), (
        "reordering expected"
    )


async def test_delay_stall_and_restart_faults(server: RtspServer) -> None:
    faults = server.faults
    async with RawRtsp("127.0.0.1", server.port) as c:
        setup = await setup_tcp(c, "h264_3", tracks=(1,))
        faults.delay = 0.3
        loop = asyncio.get_running_loop()
        sent_at = loop.time()
        await c.request("PLAY", c.url("h264_3"), {"Session": setup.session or ""})
        await c.pump_until(lambda: bool(c.frames))
        first_arrival = c.frames[0][2]
        assert first_arrival - sent_at >= 0.25
        faults.delay = 0.0
        await c.pump(0.2)
        faults.stall = True
        frames_at_stall = server.pacer_stats.frames
        # What the delay fault still holds and what is in the socket buffers was sent before
        # the stall: let it drain, then nothing at all may come (neither RTP nor RTCP).
        await c.pump_until_quiet(0.3)
        stalled_at = len(c.frames)
        await c.pump(0.3)
        assert len(c.frames) == stalled_at
        assert server.pacer_stats.frames == frames_at_stall
        faults.stall = False
        before = c.rtp(0)[-1]
        faults.restart_rtp()
        await c.pump_until(lambda: c.rtp(0)[-1].ssrc != before.ssrc)
        await c.pump(0.1)
    after = c.rtp(0)[-1]
    assert after.ssrc != before.ssrc
    assert faults.restarts == 1


async def test_drop_tcp_after_aborts_the_connection() -> None:
    faults = RtspFaults(drop_tcp_after=0.3)
    async with RtspServer(faults=faults) as server:
        c = await RawRtsp("127.0.0.1", server.port).connect()
        setup = await setup_tcp(c, "h264_3", tracks=(1,))
        await c.request("PLAY", c.url("h264_3"), {"Session": setup.session or ""})
        with pytest.raises((asyncio.IncompleteReadError, ConnectionError)):
            await c.pump(2.0)
        await c.close()
        assert c.frames
        await wait_until(lambda: not server.sessions)
        assert server.sessions == {}


async def test_limits_refuse_instead_of_growing() -> None:
    async with RtspServer(max_sessions=1) as server, RawRtsp("127.0.0.1", server.port) as c:
        await setup_tcp(c, "h264", tracks=(1,))
        more = await c.request("SETUP", c.url("jpeg/track1"), {"Transport": "RTP/AVP/TCP"})
        assert more.status == 453
        await c.send_raw(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\nX: " + b"a" * 20000)
        resp = await c.read_response()
        assert resp.status == 400


def test_serves_under_uvloop() -> None:
    uvloop = require_module("uvloop")

    async def play() -> list[int]:
        async with RtspServer() as server, RawRtsp("127.0.0.1", server.port) as c:
            setup = await setup_tcp(c, "h264_3", tracks=(1,))
            await c.request("PLAY", c.url("h264_3"), {"Session": setup.session or ""})
            await c.pump(0.4)
            await c.request("TEARDOWN", c.url("h264_3"), {"Session": setup.session or ""})
        return [p.seq for p in c.rtp(0)]

    seqs = uvloop.run(play())
    assert len(seqs) > 10
    assert all((b - a) & 0xFFFF == 1 for a, b in itertools.pairwise(seqs))
