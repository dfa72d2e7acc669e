"""rtsp package."""
