"""High-level RTSP media stream: depacketized frames from every selected track, in arrival order.

``async with RtspStream("rtsp://user:pass@cam/h264", audio=True) as s:`` then
``async for frame in s.frames():`` yields the RTP stack's :class:`~ipcam_async.rtp.VideoFrame`
and :class:`~ipcam_async.rtp.AudioFrame`. With a :class:`ReconnectPolicy` the iterator survives
reconnects, and the first frame of each track after one carries ``discontinuity=True``.

Slow consumers: frames wait in a bounded queue (``max_queue``). When it is full, the queued
frames are discarded and so is everything that follows until the next video keyframe (the next
frame of any kind for an audio-only or JPEG stream); every discarded frame is counted in
``stats.dropped_frames`` and the first frame delivered after a drop has ``lost=True``. Memory
never grows with a stalled consumer.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import weakref
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import AuthError, InvalidArgument, IpCamError, ProtocolError, RtspError, StreamClosed
from ..reconnect import ReconnectPolicy
from ..redact import redact_url
from ..rtp.frames import AudioFrame, VideoFrame
from ..rtp.h264 import split_annexb
from ..rtp.options import RtpOptions
from ..rtp.track import TrackReceiver
from .client import RtspClient, TransportMode
from .options import RtspQuirks
from .sdp import MediaDescription, SessionDescription, sanitize_h264_fmtp

if TYPE_CHECKING:
    from ..camera import Camera

__all__ = [
    "STREAM_NAMES",
    "RtspStream",
    "StreamStats",
    "TrackStatistics",
    "open_camera_stream",
]

log = logging.getLogger(__name__)

Frame = VideoFrame | AudioFrame
STREAM_NAMES = ("h264", "h264_2", "h264_3", "h264_4", "jpeg")
VIDEO_CODECS = ("H264", "JPEG")
AUDIO_CODECS = ("PCMU",)
TICK_INTERVAL = 0.05


@attrs.frozen(slots=True)
class TrackStatistics:
    """Per-track counters (a snapshot)."""

    track: int
    media: str
    codec: str
    packets: int
    bytes: int
    lost: int
    reordered: int
    duplicated: int
    jitter: float
    frames: int
    dropped_frames: int
    stray_packets: int
    reconnects: int


@attrs.frozen(slots=True)
class StreamStats:
    """Stream-wide counters (a snapshot). ``dropped_frames`` counts queue-overflow drops."""

    tracks: Mapping[int, TrackStatistics]
    reconnects: int
    dropped_frames: int
    queued: int
    transport: str | None


class _TrackSink:
    """PacketSink feeding one TrackReceiver and pushing its frames into the stream's queue.

    The quirk rewrites (payload type, RTCP SSRC, Annex B splitting) copy only the packets they
    change; the normal path hands the transport's view straight to the receiver.
    """

    __slots__ = (
        "accept_pt",
        "accept_rtcp_ssrc",
        "feed_batch",
        "media",
        "payload_type",
        "receiver",
        "split_annexb",
        "stream",
        "track",
    )

    def __init__(
        self,
        stream: RtspStream,
        track: int,
        media: MediaDescription,
        receiver: TrackReceiver,
        quirks: RtspQuirks,
    ) -> None:
        self.stream = stream
        self.track = track
        self.media = media
        self.receiver = receiver
        self.payload_type = receiver.payload_type
        self.accept_pt = quirks.stray_payload_types == "accept"
        self.accept_rtcp_ssrc = quirks.unknown_rtcp_ssrc == "accept"
        self.split_annexb = quirks.annexb_in_payload and receiver.codec == "H264"
        # The quirk rewrites work packet by packet; without them a read's packets go in at once.
        self.feed_batch = None if self.accept_pt or self.split_annexb else receiver.feed_rtp_batch

    def on_rtp(self, data: memoryview, arrival: float) -> None:
        if self.accept_pt and len(data) > 1 and (data[1] & 0x7F) != self.payload_type:
            patched = bytearray(data)
            patched[1] = (patched[1] & 0x80) | self.payload_type
            data = memoryview(patched)
        if self.split_annexb:
            data = _split_annexb_payload(data)
        frames = self.receiver.feed_rtp(data, arrival)
        if frames:
            self.stream._push(frames)

    def on_rtp_batch(self, packets: list[memoryview], arrival: float) -> None:
        """Packets of one socket read, in order (same result as :meth:`on_rtp` on each)."""
        feed = self.feed_batch
        if feed is None:
            for data in packets:
                self.on_rtp(data, arrival)
            return
        frames = feed(packets, arrival)
        if frames:
            self.stream._push(frames)

    def on_interleaved(
        self,
        buf: bytes | bytearray,
        view: memoryview,
        pos: int,
        end: int,
        channel: int,
        arrival: float,
    ) -> tuple[int, int, int]:
        """A run of TCP interleaved frames of this track's RTP channel, read in place from the
        connection's buffer (see :meth:`TrackReceiver.feed_interleaved`)."""
        if self.feed_batch is None:
            return pos, 0, 0  # quirk rewrites work packet by packet
        out: list[Frame] = []
        result = self.receiver.feed_interleaved(buf, view, pos, end, channel, arrival, out)
        if out:
            self.stream._push(out)
        return result

    def on_rtcp(self, data: memoryview, arrival: float) -> None:
        if self.accept_rtcp_ssrc and len(data) >= 8 and data[1] == 200:
            ssrc = self.receiver.ssrc
            if ssrc is not None and int.from_bytes(data[4:8], "big") != ssrc:
                patched = bytearray(data)
                patched[4:8] = ssrc.to_bytes(4, "big")
                data = memoryview(patched)
        self.receiver.feed_rtcp(data, arrival)

    def seed(self, seq: int | None, rtptime: int | None) -> None:
        self.receiver.seed(seq, rtptime)

    def receiver_report(self, now: float, receiver_ssrc: int) -> bytes | None:
        return self.receiver.build_receiver_report(now, receiver_ssrc)


def _split_annexb_payload(data: memoryview) -> memoryview:
    """Turn a single-NAL payload holding Annex B start codes into a STAP-A packet."""
    if len(data) < 13 or data[0] >> 6 != 2:
        return data
    offset = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:
        if len(data) < offset + 4:
            return data
        offset += 4 + 4 * int.from_bytes(data[offset + 2 : offset + 4], "big")
    end = len(data)
    if data[0] & 0x20 and end > offset:
        end -= data[end - 1]
    if end - offset < 4:
        return data
    kind = data[offset] & 0x1F
    payload = bytes(data[offset:end])
    if not (kind == 0 or 1 <= kind <= 23) or b"\x00\x00\x01" not in payload:
        return data
    if not payload.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
        payload = b"\x00\x00\x00\x01" + payload
    nals = [bytes(n) for n in split_annexb(payload) if len(n)]
    if not nals or any(len(n) > 0xFFFF for n in nals):
        return data
    if len(nals) == 1:
        return memoryview(bytes(data[:offset]) + nals[0])
    nri = max(n[0] & 0x60 for n in nals)
    parts = [bytes(data[:offset]), bytes((nri | 24,))]
    for nal in nals:
        parts.append(len(nal).to_bytes(2, "big"))
        parts.append(nal)
    return memoryview(b"".join(parts))


class RtspStream:
    """Frames from one RTSP presentation (see the module docstring for the queue policy).

    ``video`` / ``audio`` select the tracks; ``reconnect``: a :class:`ReconnectPolicy`, ``True``
    for the default policy, or None/False to end the iterator with the error. Remaining keyword
    arguments go to :class:`RtspClient` (``timeout``, ``teardown_timeout``, ``udp_timeout``,
    ``data_timeout``, ``user_agent``...).
    """

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        transport: TransportMode = "tcp",
        video: bool = True,
        audio: bool = False,
        reconnect: ReconnectPolicy | bool | None = None,
        max_queue: int = 256,
        quirks: RtspQuirks | None = None,
        rtp_options: RtpOptions | None = None,
        **client_options: Any,
    ) -> None:
        if max_queue < 1:
            raise InvalidArgument("max_queue", "a positive number of frames", max_queue)
        if not video and not audio:
            raise InvalidArgument("video/audio", "at least one of them", "neither")
        self.url = url
        self._username = username
        self._password = password
        self.transport: TransportMode = transport
        self.video = video
        self.audio = audio
        if reconnect is True:
            reconnect = ReconnectPolicy()
        self.reconnect: ReconnectPolicy | None = reconnect or None
        self.max_queue = max_queue
        self.quirks = quirks or RtspQuirks()
        self.rtp_options = rtp_options or RtpOptions()
        self._client_options = client_options
        # Validate the URL and options now rather than at the first connect.
        self._probe = RtspClient(
            url, username=username, password=password, transport=transport, **client_options
        )
        self._client: RtspClient | None = None
        self._sinks: dict[int, _TrackSink] = {}
        self._queue: collections.deque[Frame] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._dropping = False
        self._has_video = False
        self._mark_lost = False
        self._discontinuity: set[int] = set()
        self._dropped = 0
        self._reconnects = 0
        self._error: BaseException | None = None
        self._closed = False
        self._supervisor: asyncio.Task[None] | None = None
        self.sdp: SessionDescription | None = None

    def __repr__(self) -> str:
        return f"RtspStream({redact_url(self._probe.url)!r}, transport={self.transport!r})"

    # ------------------------------------------------------------------ lifecycle

    async def __aenter__(self) -> RtspStream:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Connect, DESCRIBE, SETUP the selected tracks and PLAY."""
        if self._closed:
            raise StreamClosed("stream is closed")
        if self._client is not None:
            return
        try:
            self._client = await self._open()
        except BaseException:
            await self.close()
            raise
        loop = asyncio.get_running_loop()
        self._supervisor = loop.create_task(self._supervise())
        if self.transport != "tcp":  # only UDP receivers hold packets in a reorder window
            _ticker_for(loop).add(self)

    async def close(self) -> None:
        """Stop: TEARDOWN (bounded), close sockets, end the frame iterator."""
        self._closed = True
        _ticker_for(asyncio.get_running_loop()).discard(self)
        task = self._supervisor
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()
            await asyncio.wait([task])
        self._supervisor = None
        client, self._client = self._client, None
        if client is not None:
            await client.close()
        self._wake()

    # ------------------------------------------------------------------ properties

    @property
    def client(self) -> RtspClient | None:
        """The current RTSP client (replaced on reconnect)."""
        return self._client

    @property
    def parameters(self) -> Any:
        """The video track's codec parameters (H.264: SPS/PPS, width, height), or None."""
        for sink in self._sinks.values():
            if sink.media.media == "video":
                return sink.receiver.parameters
        return None

    @property
    def stats(self) -> StreamStats:
        """A snapshot of the per-track and stream counters."""
        tracks: dict[int, TrackStatistics] = {}
        for index, sink in self._sinks.items():
            st = sink.receiver.stats
            tracks[index] = TrackStatistics(
                track=index,
                media=sink.media.media,
                codec=sink.media.encoding or "",
                packets=int(getattr(st, "packets", 0)),
                bytes=int(getattr(st, "bytes", 0)),
                lost=int(getattr(st, "lost", 0)),
                reordered=int(getattr(st, "reordered", 0)),
                duplicated=int(getattr(st, "duplicated", 0)),
                jitter=float(getattr(st, "jitter", 0.0)),
                frames=int(getattr(st, "frames", 0)),
                dropped_frames=int(getattr(st, "dropped_frames", 0)),
                stray_packets=int(getattr(st, "wrong_payload_type", 0)),
                reconnects=self._reconnects,
            )
        client = self._client
        transport = client.tracks[0].transport if client is not None and client.tracks else None
        return StreamStats(
            tracks=tracks,
            reconnects=self._reconnects,
            dropped_frames=self._dropped,
            queued=len(self._queue),
            transport=transport,
        )

    # ------------------------------------------------------------------ control

    async def pause(self) -> None:
        """PAUSE the session (frames stop; the session is kept alive)."""
        client = self._require_client()
        await client.pause()

    async def resume(self) -> None:
        """PLAY again after :meth:`pause`."""
        client = self._require_client()
        await client.play(None)

    def _require_client(self) -> RtspClient:
        if self._client is None:
            raise StreamClosed("stream is not running")
        return self._client

    # ------------------------------------------------------------------ frames

    async def frames(self) -> AsyncIterator[Frame]:
        """Yield frames of every selected track in arrival order until the stream ends.

        Raises the session's error (e.g. :class:`~ipcam_async.errors.RtspError`,
        :class:`~ipcam_async.errors.StreamTimeout`) when it fails and no reconnect is possible.
        """
        queue = self._queue
        while True:
            if queue:
                yield queue.popleft()
                continue
            if self._error is not None:
                raise self._error
            if self._closed:
                return
            loop = asyncio.get_running_loop()
            self._waiter = loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _push(self, frames: list[Frame]) -> None:
        queue = self._queue
        if (
            not self._dropping
            and not self._mark_lost
            and not self._discontinuity
            and len(queue) + len(frames) <= self.max_queue
        ):
            # Nothing to mark and room for all: the per-frame policy below would append each.
            queue.extend(frames)
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            return
        for frame in frames:
            if self._discontinuity and frame.track in self._discontinuity:
                self._discontinuity.discard(frame.track)
                frame = attrs.evolve(frame, discontinuity=True)
            restart = (isinstance(frame, AudioFrame) and not self._has_video) or (
                isinstance(frame, VideoFrame) and frame.keyframe
            )
            if self._dropping:
                if not restart:
                    self._dropped += 1
                    continue
                self._dropping = False
                self._mark_lost = True
            if len(queue) >= self.max_queue:
                self._dropped += len(queue)
                queue.clear()
                log.warning(
                    "consumer too slow: dropped %d queued frames, skipping to the next keyframe",
                    self.max_queue,
                )
                if not restart:
                    self._dropped += 1
                    self._dropping = True
                    continue
                self._mark_lost = True
            if self._mark_lost:
                self._mark_lost = False
                frame = attrs.evolve(frame, lost=True)
            queue.append(frame)
        self._wake()

    # ------------------------------------------------------------------ internals

    def _select(self, sdp: SessionDescription) -> list[tuple[int, MediaDescription]]:
        chosen: list[tuple[int, MediaDescription]] = []
        if self.video:
            video = next(
                (
                    (i, m)
                    for i, m in enumerate(sdp.media)
                    if m.media == "video" and m.encoding in VIDEO_CODECS
                ),
                None,
            )
            if video is None:
                raise ProtocolError("the SDP has no H264 or JPEG video track")
            chosen.append(video)
        if self.audio:
            audio = next(
                (
                    (i, m)
                    for i, m in enumerate(sdp.media)
                    if m.media == "audio" and m.encoding in AUDIO_CODECS
                ),
                None,
            )
            if audio is not None:
                chosen.append(audio)
            elif not self.video:
                raise ProtocolError("the SDP has no PCMU audio track")
            else:
                log.info("no supported audio track in %s; streaming video only", self)
        return chosen

    async def _open(self) -> RtspClient:
        client = RtspClient(
            self.url,
            username=self._username,
            password=self._password,
            transport=self.transport,
            quirks=self.quirks,
            **self._client_options,
        )
        try:
            await client.connect()
            sdp = await client.describe()
            selections = []
            for index, media in self._select(sdp):
                sink = self._sinks.get(index)
                if sink is None or sink.media.encoding != media.encoding:
                    sink = self._make_sink(index, media)
                    self._sinks[index] = sink
                else:
                    sink.receiver.reset()
                selections.append((media, sink))
            self.sdp = sdp
            self._has_video = any(s.media.media == "video" for s in self._sinks.values())
            await client.start(selections)
        except BaseException:
            await client.close()
            raise
        return client

    def _make_sink(self, index: int, media: MediaDescription) -> _TrackSink:
        codec = media.encoding or ""
        fmtp = sanitize_h264_fmtp(media.fmtp) if codec == "H264" else dict(media.fmtp)
        payload_type = media.payload_type if media.payload_type is not None else 0
        options = self.rtp_options
        if self.quirks.ssrc_change == "follow":
            options = attrs.evolve(options, min_sequential=1)
        receiver = TrackReceiver(
            track=index,
            codec=codec,
            clock_rate=media.clock_rate or 90000,
            payload_type=payload_type,
            fmtp=fmtp,
            # "auto" may end up on TCP, where a reorder window is harmless (nothing arrives
            # out of order) but skipping it on UDP would not be.
            reorder=self.transport != "tcp",
            options=options,
        )
        return _TrackSink(self, index, media, receiver, self.quirks)

    def _tick(self, now: float) -> None:
        # Releases packets held by the UDP reorder window once their wait is over.
        for sink in self._sinks.values():
            frames = sink.receiver.tick(now)
            if frames:
                self._push(frames)

    async def _supervise(self) -> None:
        try:
            await self._supervise_sessions()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A bug or an unexpected error must end the iterator with it, never leave
            # frames() waiting for a session nobody will open.
            log.exception("stream %s: supervisor failed", self)
            self._fail(exc)

    async def _supervise_sessions(self) -> None:
        attempt = 0
        while not self._closed:
            client = self._client
            assert client is not None
            try:
                await asyncio.shield(client.failure)
                return  # closed normally
            except asyncio.CancelledError:
                raise
            except BaseException as exc:  # the session died
                error: BaseException = exc
            log.info("stream %s failed: %s", self, error)
            await client.close()
            self._client = None
            session_lost = isinstance(error, RtspError) and error.status == 454
            policy = self.reconnect
            if policy is None and not (session_lost and attempt == 0):
                self._fail(error)
                return
            while not self._closed:
                if policy is not None and policy.max_failures is not None:
                    if attempt >= policy.max_failures:
                        self._fail(error)
                        return
                elif policy is None and attempt >= 1:
                    self._fail(error)
                    return
                delay = 0.0
                if policy is not None and not (session_lost and attempt == 0):
                    delay = policy.delay(attempt + 1)
                attempt += 1
                await asyncio.sleep(delay)
                # Before PLAY: frames of the new session may arrive with its response.
                self._discontinuity = set(self._sinks)
                try:
                    self._client = await self._open()
                except AuthError as exc:
                    self._fail(exc)  # retrying refused credentials only locks accounts
                    return
                except (IpCamError, OSError) as exc:
                    error = exc
                    log.info("reconnect %d to %s failed: %s", attempt, self, exc)
                    continue
                self._reconnects += 1
                attempt = 0
                break

    def _fail(self, error: BaseException) -> None:
        self._error = error
        self._closed = True
        _ticker_for(asyncio.get_running_loop()).discard(self)
        self._wake()


class _ReorderTicker:
    """One timer per event loop ticking every UDP stream's reorder windows.

    A timer per stream would cost one wake-up per stream every ``TICK_INTERVAL``; sharing it
    keeps the cost flat however many streams a process ingests.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.streams: set[RtspStream] = set()
        self.handle: asyncio.TimerHandle | None = None

    def add(self, stream: RtspStream) -> None:
        self.streams.add(stream)
        if self.handle is None:
            self.handle = self.loop.call_later(TICK_INTERVAL, self._run)

    def discard(self, stream: RtspStream) -> None:
        self.streams.discard(stream)
        if not self.streams and self.handle is not None:
            self.handle.cancel()
            self.handle = None

    def _run(self) -> None:
        now = self.loop.time()
        for stream in list(self.streams):
            try:
                stream._tick(now)
            except Exception:  # one broken stream must not stop the others' timer
                log.exception("reorder tick failed for %s", stream)
        self.handle = self.loop.call_later(TICK_INTERVAL, self._run) if self.streams else None


_TICKERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _ReorderTicker] = (
    weakref.WeakKeyDictionary()
)


def _ticker_for(loop: asyncio.AbstractEventLoop) -> _ReorderTicker:
    ticker = _TICKERS.get(loop)
    if ticker is None:
        ticker = _TICKERS[loop] = _ReorderTicker(loop)
    return ticker


def open_camera_stream(cam: Camera, name: str = "h264", **kw: Any) -> RtspStream:
    """An :class:`RtspStream` for one of the camera's stream names (spec 5.5.1).

    ``name``: ``h264``, ``h264_2``, ``h264_3``, ``h264_4`` or ``jpeg``. Keyword arguments are
    those of :class:`RtspStream`. Use ``async with cam.stream("h264", audio=True) as s:``.
    """
    if name not in STREAM_NAMES:
        raise InvalidArgument("name", " | ".join(STREAM_NAMES), name)
    username, password = cam._credentials()
    kw.setdefault("timeout", getattr(cam, "timeout", 10.0))
    return RtspStream(cam.rtsp_url(name), username=username, password=password, **kw)
