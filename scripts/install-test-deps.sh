#!/usr/bin/env bash
# Installs what the test suite needs on a bare Debian machine: the third-party RTSP peers the
# interop tests talk to (FFmpeg, GStreamer and its RTSP server) and the project with its test extras.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=0
for tool in ffmpeg ffprobe gst-launch-1.0 openssl; do
    command -v "$tool" >/dev/null 2>&1 || need_apt=1
done
/usr/bin/python3 -c 'import gi; gi.require_version("GstRtspServer", "1.0"); from gi.repository import GstRtspServer' \
    >/dev/null 2>&1 || need_apt=1
gst-inspect-1.0 x264enc >/dev/null 2>&1 || need_apt=1

if [ "$need_apt" = 1 ]; then
    SUDO=""
    [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
        ffmpeg openssl gstreamer1.0-tools gstreamer1.0-rtsp gstreamer1.0-plugins-base \
        gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly \
        gstreamer1.0-libav gir1.2-gst-rtsp-server-1.0 python3-gi
fi

python3 -m pip install -q -e '.[test,speed]'
