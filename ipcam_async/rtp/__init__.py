"""rtp package."""
