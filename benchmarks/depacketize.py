"""Throughput and allocations of the sans-io RTP receive path, beside a naive baseline.

Measures ``TrackReceiver.feed_rtp`` (parse → reorder → depacketize → one join per frame) for

- H.264: a 1920x1080, 4 Mbit/s, 30 fps libx264 stream packetized at MTU 1400 (mostly FU-A),
  with TCP pass-through and with the UDP reorder window;
- JPEG: 1920x1080 baseline pictures (RFC 2435, in-band tables);
- PCMU: 20 ms packets.

Beside each, a naive depacketizer measured in the same run, rounds alternating: header parsed
by copying slices, access units grown by ``bytes`` concatenation per fragment, no loss or
reorder handling, no frame objects. For PCMU (nothing to reassemble) the baseline is only the
floor: unpack the header and copy the payload. Figures are medians over rounds.

"Alloc B/pkt" is the sum over packets of the tracemalloc peak increase during each call, per
packet (the frame's own bytes included); "overhead B/pkt" subtracts the frames' data, i.e.
what the path allocates besides the one copy into the frame.

Usage: ``python3 benchmarks/depacketize.py [--quick] [--rounds N]``
"""

from __future__ import annotations

import argparse
import io
import platform
import statistics
import struct
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ipcam_async.rtp import (
    H264Packetizer,
    JpegPacketizer,
    PcmuPacketizer,
    RtpOptions,
    TrackReceiver,
)

TARGET_H264_PPS = 500_000


# -- media ---------------------------------------------------------------------------------


def _picture(width: int, height: int, index: int) -> npt.NDArray[np.uint8]:
    y, x = np.mgrid[0:height, 0:width]
    rng = np.random.default_rng(index)
    base = np.stack([(x + index * 8) % 256, (y + index * 4) % 256, (x + y) % 256], axis=-1)
    return (base + rng.integers(0, 16, base.shape)).astype(np.uint8)


def make_h264(frames: int, *, intra: bool = False) -> list[bytes]:
    """1080p30 at about 4 Mbit/s with libx264 (one IDR per second), or all-IDR at 16 Mbit/s."""
    import av

    kbps = 16000 if intra else 4000
    codec = av.CodecContext.create("libx264", "w")
    codec.width, codec.height = 1920, 1080
    codec.pix_fmt = "yuv420p"
    codec.time_base = Fraction(1, 30)
    codec.framerate = Fraction(30, 1)
    codec.bit_rate = kbps * 1000
    codec.gop_size = 1 if intra else 30
    codec.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "x264-params": f"vbv-maxrate={kbps}:vbv-bufsize={kbps}:repeat-headers=1",
    }
    out: list[bytes] = []
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(_picture(1920, 1080, i), format="rgb24")
        frame = frame.reformat(format="yuv420p")
        frame.pts = i
        out.extend(bytes(p) for p in codec.encode(frame))
    out.extend(bytes(p) for p in codec.encode(None))
    return out


def make_jpeg(frames: int) -> list[bytes]:
    from PIL import Image

    out = []
    for i in range(frames):
        buf = io.BytesIO()
        Image.fromarray(_picture(1920, 1080, i), "RGB").save(
            buf, "JPEG", quality=75, subsampling=2, optimize=False
        )
        out.append(buf.getvalue())
    return out


# -- naive baseline ------------------------------------------------------------------------

_HDR = struct.Struct("!BBHII")


class NaiveH264:
    """What a first attempt looks like: copies per packet, bytes concatenation per fragment."""

    def __init__(self) -> None:
        self.au = b""
        self.frames = 0

    def feed(self, data: bytes) -> list[bytes]:
        _b0, b1, _seq, _ts, _ssrc = _HDR.unpack(data[:12])
        payload = data[12:]
        kind = payload[0] & 0x1F
        if kind == 28:
            fu = payload[1]
            if fu & 0x80:
                self.au = (
                    self.au + b"\x00\x00\x00\x01" + bytes(((payload[0] & 0xE0) | (fu & 0x1F),))
                )
            self.au = self.au + payload[2:]
        elif kind == 24:
            pos = 1
            while pos + 2 <= len(payload):
                size = (payload[pos] << 8) | payload[pos + 1]
                self.au = self.au + b"\x00\x00\x00\x01" + payload[pos + 2 : pos + 2 + size]
                pos += 2 + size
        else:
            self.au = self.au + b"\x00\x00\x00\x01" + payload
        if b1 & 0x80:
            au, self.au = self.au, b""
            self.frames += 1
            return [au]
        return []


class NaiveJpeg:
    def __init__(self) -> None:
        self.scan = b""
        self.header = b""

    def feed(self, data: bytes) -> list[bytes]:
        _b0, b1, _seq, _ts, _ssrc = _HDR.unpack(data[:12])
        payload = data[12:]
        offset = int.from_bytes(payload[1:4], "big")
        pos = 8
        if offset == 0 and payload[5] >= 128:
            length = int.from_bytes(payload[10:12], "big")
            self.header = payload[12 : 12 + length]  # stands in for the rebuilt header
            pos = 12 + length
        self.scan = self.scan + payload[pos:]
        if b1 & 0x80:
            frame, self.scan = self.header + self.scan + b"\xff\xd9", b""
            return [frame]
        return []


class NaivePcmu:
    def feed(self, data: bytes) -> list[bytes]:
        _HDR.unpack(data[:12])
        return [data[12:]]


# -- measurement ---------------------------------------------------------------------------


def time_rounds(
    runs: Sequence[Callable[[], int]], rounds: int, expect: int, min_round: float
) -> list[float]:
    """Median seconds per pass of each ``run``; rounds of all runs alternate (fair under load).

    Each round repeats a run until ``min_round`` seconds have passed, so short streams are
    timed over many passes.
    """
    per_pass: list[list[float]] = [[] for _ in runs]
    for _ in range(rounds):
        for i, run in enumerate(runs):
            passes = 0
            start = time.perf_counter()
            while True:
                got = run()
                passes += 1
                if got != expect:
                    raise SystemExit(f"{got} frames instead of {expect}: the path is broken")
                elapsed = time.perf_counter() - start
                if elapsed >= min_round:
                    break
            per_pass[i].append(elapsed / passes)
    return [statistics.median(t) for t in per_pass]


def alloc_per_packet(
    feed: Callable[[bytes], Sequence[Any]], packets: Sequence[bytes]
) -> tuple[float, float]:
    """(total, excluding frame bytes) tracemalloc peak increase per packet."""
    tracemalloc.start()
    total = 0
    frame_bytes = 0
    for raw in packets:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        frames = feed(raw)
        peak = tracemalloc.get_traced_memory()[1]
        total += peak - before
        for f in frames:
            frame_bytes += len(f) if isinstance(f, bytes) else len(f.data)
        del frames
    tracemalloc.stop()
    return total / len(packets), (total - frame_bytes) / len(packets)


def receiver(codec: str, clock_rate: int, pt: int, reorder: bool) -> TrackReceiver:
    return TrackReceiver(
        track=0,
        codec=codec,
        clock_rate=clock_rate,
        payload_type=pt,
        reorder=reorder,
        options=RtpOptions(),
    )


def measure(
    name: str,
    packets: list[bytes],
    frames: int,
    make: Callable[[], TrackReceiver],
    naive: Callable[[], Any] | None,
    rounds: int,
    alloc_sample: int,
    min_round: float,
    groups: list[list[memoryview]] | None = None,
) -> dict[str, Any]:
    """``groups``: feed these lists with ``feed_rtp_batch`` (one call per read, as the RTSP
    client does) instead of ``packets`` one by one."""

    def run_ours() -> int:
        tr = make()
        n = 0
        if groups is not None:
            feed_batch = tr.feed_rtp_batch
            for group in groups:
                n += len(feed_batch(group, 0.0))
            return n + len(tr.flush())
        feed = tr.feed_rtp
        for raw in packets:
            n += len(feed(raw, 0.0))
        return n + len(tr.flush())

    runs = [run_ours]
    if naive is not None:

        def run_naive() -> int:
            feed = naive().feed
            n = 0
            for raw in packets:
                n += len(feed(raw))
            return n

        runs.append(run_naive)
    times = time_rounds(runs, rounds, frames, min_round)
    ours = times[0]
    octets = sum(len(p) for p in packets)
    tr = make()
    if groups is not None:
        sample = []
        count = 0
        for group in groups:
            if count >= alloc_sample:
                break
            sample.append(group)
            count += len(group)
        alloc, overhead = alloc_per_packet(
            lambda group: tr.feed_rtp_batch(group, 0.0),  # type: ignore[arg-type]
            sample,  # type: ignore[arg-type]
        )
        alloc, overhead = alloc * len(sample) / count, overhead * len(sample) / count
    else:
        alloc, overhead = alloc_per_packet(
            lambda raw: tr.feed_rtp(raw, 0.0), packets[:alloc_sample]
        )
    row: dict[str, Any] = {
        "name": name,
        "packets": len(packets),
        "pps": len(packets) / ours,
        "gbps": octets * 8 / ours / 1e9,
        "alloc": alloc,
        "overhead": overhead,
        "avg_size": octets / len(packets),
    }
    if naive is not None:
        base = times[1]
        n_alloc, n_overhead = alloc_per_packet(naive().feed, packets[:alloc_sample])
        row.update(
            naive_pps=len(packets) / base,
            ratio=base / ours,
            naive_alloc=n_alloc,
            naive_overhead=n_overhead,
        )
    return row


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds' run")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    quick = args.quick
    rounds = args.rounds or (3 if quick else 9)
    alloc_sample = 600 if quick else 3000
    min_round = 0.15 if quick else 0.5

    t0 = time.perf_counter()
    aus = make_h264(20 if quick else 90)
    pk = H264Packetizer(payload_type=96, ssrc=1, mtu=1400, seq=65000)
    h264_groups = [pk.packetize(au, i * 3000) for i, au in enumerate(aus)]
    h264 = [p for g in h264_groups for p in g]
    # As the RTSP client hands them over: one list of views per read (a frame's packets).
    h264_reads = [[memoryview(p) for p in g] for g in h264_groups]
    intra = make_h264(4 if quick else 15, intra=True)
    pk = H264Packetizer(payload_type=96, ssrc=1, mtu=1400, seq=65000)
    h264_intra = [p for i, au in enumerate(intra) for p in pk.packetize(au, i * 3000)]
    pictures = make_jpeg(2 if quick else 6)
    jk = JpegPacketizer(ssrc=2, mtu=1400, seq=0)
    jpeg = [p for i, jpg in enumerate(pictures) for p in jk.packetize(jpg, i * 3000)]
    ulaw = bytes(i * 37 & 0xFF for i in range(8000 * (10 if quick else 60)))
    pcmu = PcmuPacketizer(ssrc=3, seq=100).packetize(ulaw, 0)
    media_s = time.perf_counter() - t0
    seconds = len(aus) / 30
    bitrate = sum(len(a) for a in aus) * 8 / seconds / 1e6

    rows = [
        measure(
            "H.264 1080p FU-A, TCP pass-through",
            h264,
            len(aus),
            lambda: receiver("H264", 90000, 96, False),
            NaiveH264,
            rounds,
            alloc_sample,
            min_round,
        ),
        measure(
            "H.264 1080p FU-A, TCP, batch per read",
            h264,
            len(aus),
            lambda: receiver("H264", 90000, 96, False),
            NaiveH264,
            rounds,
            alloc_sample,
            min_round,
            groups=h264_reads,
        ),
        measure(
            "H.264 1080p FU-A, UDP reorder window",
            h264,
            len(aus),
            lambda: receiver("H264", 90000, 96, True),
            None,
            rounds,
            alloc_sample,
            min_round,
        ),
        measure(
            "H.264 1080p all-IDR 16 Mbit/s, TCP",
            h264_intra,
            len(intra),
            lambda: receiver("H264", 90000, 96, False),
            NaiveH264,
            rounds,
            alloc_sample,
            min_round,
        ),
        measure(
            "JPEG 1080p (RFC 2435, Q=255)",
            jpeg,
            len(pictures),
            lambda: receiver("JPEG", 90000, 26, False),
            NaiveJpeg,
            rounds,
            alloc_sample,
            min_round,
        ),
        measure(
            "PCMU 20 ms packets (floor baseline)",
            pcmu,
            len(pcmu),
            lambda: receiver("PCMU", 8000, 0, False),
            NaivePcmu,
            rounds,
            alloc_sample,
            min_round,
        ),
    ]

    print(
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.machine()}, one core; {rounds} rounds, medians"
    )
    print(
        f"H.264 source: {len(aus)} access units 1920x1080 @30 fps, {bitrate:.2f} Mbit/s, "
        f"{len(h264)} packets (avg {rows[0]['avg_size']:.0f} B); media made in {media_s:.1f} s"
    )
    print()
    header = (
        f"| {'path':<38} | {'packets':>7} | {'packets/s':>10} | {'Gbit/s':>6} | "
        f"{'alloc B/pkt':>11} | {'overhead B/pkt':>14} | {'naive packets/s':>15} | "
        f"{'naive alloc B/pkt':>17} | {'speed-up':>8} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for r in rows:
        naive_pps = f"{r['naive_pps']:,.0f}" if "naive_pps" in r else "-"
        naive_alloc = f"{r['naive_alloc']:,.0f}" if "naive_alloc" in r else "-"
        ratio = f"{r['ratio']:.2f}x" if "ratio" in r else "-"
        print(
            f"| {r['name']:<38} | {r['packets']:>7} | {r['pps']:>10,.0f} | {r['gbps']:>6.2f} | "
            f"{r['alloc']:>11,.0f} | {r['overhead']:>14,.0f} | {naive_pps:>15} | "
            f"{naive_alloc:>17} | {ratio:>8} |"
        )
    pps = float(rows[0]["pps"])
    verdict = "met" if pps >= TARGET_H264_PPS else "NOT met"
    print()
    print(f"target >= {TARGET_H264_PPS:,} H.264 packets/s (full path, pass-through): {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
