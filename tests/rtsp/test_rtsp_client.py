"""RtspClient against scripted servers: methods, transports, auth, keepalive, teardown, quirks."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import struct
import time

import pytest
from rtsp_scripted_server import Conn, FakeCamera, Req, ScriptedRtspServer, interleave

from ipcam_async.errors import AuthError, ConnectError, InvalidArgument, RtspError, StreamTimeout
from ipcam_async.rtsp.client import RtspClient, parse_rtp_info, parse_transport
from ipcam_async.rtsp.options import RtspQuirks


def rtp(seq: int, pt: int = 99, ts: int = 1000, ssrc: int = 0x1234, payload: bytes = b"x") -> bytes:
    return struct.pack("!BBHII", 0x80, 0x80 | pt, seq & 0xFFFF, ts, ssrc) + payload


RR = struct.pack("!BBHI", 0x80, 201, 1, 0xABCD)


class Sink:
    def __init__(self) -> None:
        self.rtp: list[bytes] = []
        self.rtcp: list[bytes] = []
        self.seeds: list[tuple[int | None, int | None]] = []
        self.got = asyncio.Event()

    def on_rtp(self, data: memoryview, arrival: float) -> None:
        self.rtp.append(bytes(data))
        self.got.set()

    def on_rtcp(self, data: memoryview, arrival: float) -> None:
        self.rtcp.append(bytes(data))

    def seed(self, seq: int | None, rtptime: int | None) -> None:
        self.seeds.append((seq, rtptime))

    def receiver_report(self, now: float, receiver_ssrc: int) -> bytes | None:
        return RR


async def wait_for(predicate, seconds: float = 3.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


async def open_all(client: RtspClient, sinks: list[Sink]) -> None:
    sdp = await client.describe()
    await client.start(list(zip(sdp.media, sinks, strict=False)))


def test_parsers() -> None:
    info = parse_rtp_info(
        "url=rtsp://h/h264/track1;seq=41182;rtptime=1985344790,"
        "url=rtsp://h/h264/track2;seq=55405;rtptime=3572879460, url=x;seq=99999999;rtptime=z"
    )
    assert [(i.url, i.seq, i.rtptime) for i in info] == [
        ("rtsp://h/h264/track1", 41182, 1985344790),
        ("rtsp://h/h264/track2", 55405, 3572879460),
        ("x", None, None),
    ]
    fields = parse_transport("RTP/AVP;unicast;client_port=6300-6301;server_port=6970-6971")
    assert fields["proto"] == "RTP/AVP" and fields["server_port"] == "6970-6971"
    assert fields["unicast"] == ""


def test_bad_arguments() -> None:
    with pytest.raises(InvalidArgument):
        RtspClient("http://h/x")
    with pytest.raises(InvalidArgument):
        RtspClient("rtsp://h/x", transport="sctp")  # type: ignore[arg-type]


async def test_tcp_session_frames_before_play_response_and_rtp_info() -> None:
    cam = FakeCamera(packets={0: [rtp(i) for i in range(5)], 1: [rtp(i, pt=0) for i in range(3)]})
    sinks = [Sink(), Sink()]

    async def play(conn: Conn, req: Req) -> None:
        # Data for both channels and one on a channel nobody set up, before the response.
        conn.send(interleave(0, rtp(100)) + interleave(2, rtp(200, pt=0)) + interleave(9, b"?"))
        base = req.url
        conn.respond(
            req,
            headers=[
                ("Session", "ABCD1234"),
                (
                    "RTP-Info",
                    f"url={base}track1;seq=101;rtptime=5000,url={base}track2;seq=0;rtptime=0",
                ),
            ],
        )
        cam.start_sending(conn)

    cam.overrides["PLAY"] = play
    async with cam:
        async with RtspClient(cam.url(userinfo="admin:secret@"), password="pw") as client:
            await open_all(client, sinks)
            await wait_for(lambda: len(sinks[0].rtp) == 6 and len(sinks[1].rtp) == 4)
            assert client.state == "playing"
            assert client._conn is not None
            assert client._conn.reader.stats.unknown_channel_frames == 1
            assert sinks[0].seeds == [(101, 5000)]
            assert sinks[1].seeds == [(None, None)]  # fake seq=0 and rtptime=0 ignored
        methods = cam.server.methods()
        assert methods == ["OPTIONS", "DESCRIBE", "SETUP", "SETUP", "PLAY", "TEARDOWN"]
        setups = [r for r in cam.server.requests if r.method == "SETUP"]
        assert setups[0].url.endswith("/h264/track1") and setups[1].url.endswith("/h264/track2")
        assert "interleaved=0-1" in setups[0].headers["transport"]
        assert "interleaved=2-3" in setups[1].headers["transport"]
        assert setups[1].headers["session"] == "ABCD1234"
        for r in cam.server.requests:
            assert "secret" not in r.url and "admin" not in r.url
        assert client.state == "closed"


async def test_udp_even_odd_ports_and_wrong_server_port() -> None:
    cam = FakeCamera(packets={0: [rtp(i) for i in range(20)]})
    sink = Sink()
    async with cam, RtspClient(cam.url(), transport="udp") as client:
        sdp = await client.describe()
        await client.start([(sdp.media[0], sink)])
        await wait_for(lambda: len(sink.rtp) == 20)
        track = client.tracks[0]
        assert track.udp is not None
        rtp_port, rtcp_port = track.udp.ports
        assert rtp_port % 2 == 0 and rtcp_port == rtp_port + 1
        # The fake camera announces server_port 6970 but sends from an ephemeral port.
        assert track.server_ports == (6970, 6971)
        cam.send_packet(cam.server.connections[0], 0, RR, rtcp=True)
        await wait_for(lambda: len(sink.rtcp) == 1)
        # A datagram from another address is dropped and counted.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
            other.bind(("127.0.0.2", 0))
            other.sendto(rtp(999), ("127.0.0.1", rtp_port))
            await wait_for(lambda: track.udp is not None and track.udp.rtp.stats.foreign == 1)
        assert len(sink.rtp) == 20


async def test_auto_falls_back_to_tcp_on_461() -> None:
    cam = FakeCamera(packets={0: [rtp(i) for i in range(3)]})

    async def setup(conn: Conn, req: Req) -> None:
        if "TCP" not in req.headers["transport"]:
            conn.respond(req, 461, "Unsupported Transport")
        else:
            await cam.default(conn, req)

    cam.overrides["SETUP"] = setup
    sink = Sink()
    async with cam, RtspClient(cam.url(), transport="auto") as client:
        sdp = await client.describe()
        await client.start([(sdp.media[0], sink)])
        await wait_for(lambda: len(sink.rtp) == 3)
        assert client.tracks[0].transport == "tcp"


async def test_auto_falls_back_when_no_udp_packet_arrives() -> None:
    cam = FakeCamera(packets={0: [rtp(i) for i in range(3)]})

    async def play(conn: Conn, req: Req) -> None:
        conn.respond(req, headers=cam.session_headers())
        if cam.track_transport[0][0] == "tcp":
            cam.start_sending(conn)  # silently never sends over UDP (a firewall)

    cam.overrides["PLAY"] = play
    sink = Sink()
    async with cam, RtspClient(cam.url(), transport="auto", udp_timeout=0.3) as client:
        sdp = await client.describe()
        await client.start([(sdp.media[0], sink)])
        await wait_for(lambda: len(sink.rtp) == 3)
        assert client.tracks[0].transport == "tcp"
    assert cam.server.methods().count("TEARDOWN") == 2
    assert cam.server.methods().count("SETUP") == 2


def digest_camera(*, stale_once: bool) -> tuple[FakeCamera, list[str]]:
    cam = FakeCamera(packets={0: [rtp(1)]})
    nonces = ["n1"]
    seen: list[str] = []

    async def check(conn: Conn, req: Req) -> None:
        header = req.headers.get("authorization", "")
        seen.append(header)
        fields = dict(
            p.strip().split("=", 1) for p in header.removeprefix("Digest ").split(",") if "=" in p
        )
        fields = {k: v.strip('"') for k, v in fields.items()}
        ha1 = hashlib.md5(b"admin:cam:1234").hexdigest()
        ha2 = hashlib.md5(f"{req.method}:{fields.get('uri', '')}".encode()).hexdigest()
        nonce = nonces[-1]
        good = fields.get("response") == hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
        if good and stale_once and req.method == "PLAY" and nonce == "n1":
            nonces.append("n2")
            conn.respond(
                req,
                401,
                "Unauthorized",
                [("WWW-Authenticate", 'Digest realm="cam", nonce="n2", stale=TRUE')],
            )
            return
        if not good:
            conn.respond(
                req,
                401,
                "Unauthorized",
                [
                    ("WWW-Authenticate", 'Basic realm="cam"'),
                    ("WWW-Authenticate", f'Digest realm="cam", nonce="{nonce}"'),
                ],
            )
            return
        await cam.default(conn, req)

    cam.handle = check  # type: ignore[method-assign]
    cam.server.handler = check
    return cam, seen


async def test_digest_with_stale_nonce() -> None:
    cam, seen = digest_camera(stale_once=True)
    sink = Sink()
    async with cam, RtspClient(cam.url(userinfo="admin:1234@")) as client:
        sdp = await client.describe()
        await client.start([(sdp.media[0], sink)])
        await wait_for(lambda: len(sink.rtp) == 1)
        assert client._auth.stale_retries == 1
    assert all("1234" not in h for h in seen)
    assert any('nonce="n2"' in h for h in seen)


async def test_wrong_password_raises_auth_error() -> None:
    cam, _ = digest_camera(stale_once=False)
    async with cam, RtspClient(cam.url(), username="admin", password="bad") as client:
        with pytest.raises(AuthError):
            await client.describe()


async def test_redirect_to_another_server() -> None:
    target = FakeCamera()
    first = ScriptedRtspServer(lambda conn, req: _redirect(conn, req, target.url("/moved")))
    async with target, first, RtspClient(first.url(), username="u", password="p") as client:
        sdp = await client.describe()
        assert client.redirects == 1
        assert client.url == target.url("/moved")
        assert len(sdp.media) == 2
    # Credentials are not sent on to a different server.
    assert all("authorization" not in r.headers for r in target.server.requests)


async def _redirect(conn: Conn, req: Req, location: str) -> None:
    conn.respond(req, 302, "Moved Temporarily", [("Location", location)])


async def test_keepalive_get_parameter_then_switch_to_options_and_rr_sent() -> None:
    cam = FakeCamera(session="S1;timeout=1")
    rejected: list[str] = []

    async def reject(conn: Conn, req: Req) -> None:
        rejected.append(req.method)
        conn.respond(req, 405, "Method Not Allowed")

    cam.overrides["GET_PARAMETER"] = reject
    sink = Sink()
    quirks = RtspQuirks(rr_interval=0.2)
    async with cam, RtspClient(cam.url(), quirks=quirks, data_timeout=None) as client:
        sdp = await client.describe()
        await client.start([(sdp.media[0], sink)])
        await wait_for(lambda: cam.server.methods().count("OPTIONS") >= 2, 4.0)
        assert rejected == ["GET_PARAMETER"]
        assert client.keepalive_method == "OPTIONS"
        await wait_for(lambda: len(cam.server.connections[0].received_frames) >= 2)
        assert all(ch == 1 and f == RR for ch, f in cam.server.connections[0].received_frames)
        assert not client.failure.done()


async def test_454_on_keepalive_fails_the_session() -> None:
    cam = FakeCamera(session="S1;timeout=1")

    async def gone(conn: Conn, req: Req) -> None:
        conn.respond(req, 454, "Session Not Found")

    cam.overrides["GET_PARAMETER"] = gone
    async with cam, RtspClient(cam.url(), data_timeout=None) as client:
        sdp = await client.describe()
        await client.start([(sdp.media[0], Sink())])
        with pytest.raises(RtspError) as info:
            await asyncio.wait_for(client.failure, 3)
        assert info.value.status == 454


async def test_session_expires_without_keepalive() -> None:
    cam = FakeCamera(session="S1;timeout=1")

    async def expire_after_play(conn: Conn, req: Req) -> None:
        await cam.default(conn, req)

        async def expire() -> None:
            await asyncio.sleep(1.0)
            conn.writer.close()  # what a camera does when the session times out

        cam.sender = asyncio.get_running_loop().create_task(expire())

    cam.overrides["PLAY"] = expire_after_play
    quirks = RtspQuirks(keepalive="none")
    async with cam, RtspClient(cam.url(), quirks=quirks, data_timeout=None) as client:
        sdp = await client.describe()
        await client.start([(sdp.media[0], Sink())])
        with pytest.raises(ConnectError):
            await asyncio.wait_for(client.failure, 3)
    assert "GET_PARAMETER" not in cam.server.methods()


async def test_no_media_times_out() -> None:
    cam = FakeCamera()
    async with cam, RtspClient(cam.url(), data_timeout=0.3) as client:
        sdp = await client.describe()
        await client.start([(sdp.media[0], Sink())])
        with pytest.raises(StreamTimeout):
            await asyncio.wait_for(client.failure, 3)


async def test_teardown_never_answered_does_not_hang() -> None:
    cam = FakeCamera(packets={0: [rtp(1)]})

    async def silent(conn: Conn, req: Req) -> None:
        return None

    cam.overrides["TEARDOWN"] = silent
    async with cam:
        client = RtspClient(cam.url(), teardown_timeout=0.2)
        await client.connect()
        sdp = await client.describe()
        await client.start([(sdp.media[0], Sink())])
        started = time.monotonic()
        await client.close()
        assert time.monotonic() - started < 1.5
        assert cam.server.methods()[-1] == "TEARDOWN"


async def test_cancellation_sends_teardown() -> None:
    cam = FakeCamera(packets={0: [rtp(1)]})
    ready = asyncio.Event()

    async def user() -> None:
        async with RtspClient(cam.url()) as client:
            sdp = await client.describe()
            await client.start([(sdp.media[0], Sink())])
            ready.set()
            await asyncio.sleep(3600)

    async with cam:
        task = asyncio.create_task(user())
        await ready.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await wait_for(lambda: "TEARDOWN" in cam.server.methods())


async def test_pause_and_play_again() -> None:
    cam = FakeCamera()
    async with cam, RtspClient(cam.url()) as client:
        sdp = await client.describe()
        await client.start([(sdp.media[0], Sink())])
        await client.pause()
        assert client.state == "paused"
        await client.play(None)
        assert client.state == "playing"
    assert cam.server.methods()[-4:] == ["PLAY", "PAUSE", "PLAY", "TEARDOWN"]
    resumed = [r for r in cam.server.requests if r.method == "PLAY"][1]
    assert "range" not in resumed.headers


async def test_server_request_answered_and_missing_cseq_tolerated() -> None:
    cam = FakeCamera()

    async def options(conn: Conn, req: Req) -> None:
        conn.send(b"OPTIONS * RTSP/1.0\r\nCSeq: 77\r\n\r\n")
        conn.respond(req, headers=[("Public", "OPTIONS, DESCRIBE")], cseq=False)

    cam.overrides["OPTIONS"] = options
    async with cam, RtspClient(cam.url()) as client:
        response = await client.options()
        assert response.cseq is None
        assert client.public == {"OPTIONS", "DESCRIBE"}


async def test_multicast_on_loopback() -> None:
    group, port = "239.255.42.42", 47000 + (int(time.time()) % 500) * 2
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((group, port))
        mreq = socket.inet_aton(group) + socket.inet_aton("127.0.0.1")
        probe.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
    except OSError as exc:
        pytest.skip(f"kernel refuses multicast on loopback here: {exc}")
    finally:
        probe.close()
    cam = FakeCamera()

    async def setup(conn: Conn, req: Req) -> None:
        reply = f"RTP/AVP;multicast;destination={group};port={port}-{port + 1};ttl=0"
        conn.respond(req, headers=[("Transport", reply), *cam.session_headers()])

    cam.overrides["SETUP"] = setup
    sink = Sink()
    async with (
        cam,
        RtspClient(cam.url(), transport="multicast", multicast_interface="127.0.0.1") as client,
    ):
        sdp = await client.describe()
        await client.start([(sdp.media[0], sink)])
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sender.setsockopt(
                socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1")
            )
            sender.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 1)
            sender.bind(("127.0.0.1", 0))
            for i in range(5):
                sender.sendto(rtp(i), (group, port))
            try:
                await wait_for(lambda: len(sink.rtp) == 5, 2.0)
            except AssertionError:
                pytest.skip("kernel does not loop multicast back on lo (no MULTICAST flag)")
        finally:
            sender.close()
        assert client.tracks[0].transport == "multicast"


async def test_udp_burst_drained_in_few_wakeups_and_rr_reaches_server_rtcp_port() -> None:
    cam = FakeCamera()
    rtcp_in = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rtcp_in.bind(("127.0.0.1", 0))
    rtcp_in.setblocking(False)
    rtcp_port = rtcp_in.getsockname()[1]

    async def setup(conn: Conn, req: Req) -> None:
        ports = req.headers["transport"].split("client_port=")[1]
        cam.track_transport[0] = ("udp", int(ports.split("-")[0]))
        reply = f"RTP/AVP;unicast;client_port={ports};server_port={rtcp_port - 1}-{rtcp_port}"
        conn.respond(req, headers=[("Transport", reply), *cam.session_headers()])

    cam.overrides["SETUP"] = setup
    sink = Sink()
    quirks = RtspQuirks(rr_interval=0.2)
    try:
        async with cam, RtspClient(cam.url(), transport="udp", quirks=quirks) as client:
            sdp = await client.describe()
            await client.start([(sdp.media[0], sink)])
            udp = client.tracks[0].udp
            assert udp is not None
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as burst:
                for i in range(100):  # without yielding to the event loop
                    burst.sendto(rtp(i, payload=b"p" * 400), ("127.0.0.1", udp.ports[0]))
            await wait_for(lambda: len(sink.rtp) == 100)
            assert [struct.unpack("!H", p[2:4])[0] for p in sink.rtp] == list(range(100))
            assert udp.rtp.stats.wakeups <= 5
            loop = asyncio.get_running_loop()
            report = await asyncio.wait_for(loop.sock_recv(rtcp_in, 2048), 3)
            assert report == RR
    finally:
        rtcp_in.close()


async def test_ignored_keepalive_switches_method_without_failing() -> None:
    cam = FakeCamera(session="S1;timeout=1")

    async def ignore(conn: Conn, req: Req) -> None:
        return None  # some cameras never answer GET_PARAMETER

    cam.overrides["GET_PARAMETER"] = ignore
    async with cam, RtspClient(cam.url(), timeout=0.3, data_timeout=None) as client:
        sdp = await client.describe()
        await client.start([(sdp.media[0], Sink())])
        await wait_for(lambda: cam.server.methods().count("OPTIONS") >= 2, 4.0)
        assert client.keepalive_method == "OPTIONS"
        assert not client.failure.done()
