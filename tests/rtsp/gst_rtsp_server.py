"""GStreamer RTSP server for interop tests (run with the system Python that has python3-gi).

Serves ``/h264`` (H.264 video + PCMU audio) and ``/jpeg`` (MJPEG) on 127.0.0.1, on a free port
that it prints as ``PORT <n>`` on stdout, over UDP and TCP, with Basic or Digest auth
(``--auth basic|digest|none``). It runs until stdin closes, so it dies with the test process.

Usage: /usr/bin/python3 gst_rtsp_server.py --auth digest --user admin --password 1234
"""

from __future__ import annotations

import argparse
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtsp", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtsp, GstRtspServer  # noqa: E402

H264 = (
    "( videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,height=240,framerate=15/1 "
    "! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 bitrate=500 "
    "! video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=-1 "
    "audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=8000,channels=1 "
    "! mulawenc ! rtppcmupay name=pay1 pt=0 )"
)
JPEG = (
    "( videotestsrc is-live=true pattern=smpte "
    "! video/x-raw,format=I420,width=320,height=240,framerate=10/1 "
    "! jpegenc quality=70 ! rtpjpegpay name=pay0 pt=26 )"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--auth", choices=("none", "basic", "digest"), default="none")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", default="1234")
    args = parser.parse_args()

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service("0")
    mounts = server.get_mount_points()
    for path, launch in (("/h264", H264), ("/jpeg", JPEG)):
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        factory.set_shared(True)
        factory.set_protocols(GstRtsp.RTSPLowerTrans.UDP | GstRtsp.RTSPLowerTrans.TCP)
        if args.auth != "none":
            factory.add_role_from_structure(
                Gst.Structure.from_string(
                    "user, media.factory.access=(boolean)true, "
                    "media.factory.construct=(boolean)true"
                )[0]
            )
        mounts.add_factory(path, factory)
    if args.auth != "none":
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken.new()
        token.set_string("media.factory.role", "user")
        if args.auth == "basic":
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.BASIC)
            auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password), token)
        else:
            auth.set_supported_methods(GstRtsp.RTSPAuthMethod.DIGEST)
            auth.add_digest(args.user, args.password, token)
        server.set_auth(auth)
    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        print("ERROR attach failed", flush=True)
        sys.exit(1)
    print(f"PORT {server.get_bound_port()}", flush=True)

    def watch_stdin() -> None:
        sys.stdin.read()
        GLib.idle_add(loop.quit)

    threading.Thread(target=watch_stdin, daemon=True).start()
    loop.run()


if __name__ == "__main__":
    main()
