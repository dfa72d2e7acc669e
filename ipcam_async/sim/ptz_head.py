"""A virtual pan/tilt/zoom head for the simulated camera.

Sans-io: nothing runs in the background.  Every motion is stored as a start point, a start time and
a rule (a velocity, a target with a speed, or a looping tour), and the position is computed from
the time the caller passes in.  So a test can start a move and watch the position change by
querying ``ptz.cgi?query=position`` a few times, with no task to cancel afterwards.

Units are the spec's: degrees for pan (-180..180, wraps around under continuous moves) and tilt
(-10..190, clamped), steps for zoom and focus (0..9999), and 0..100 for the iris.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import attrs

__all__ = ["Axis", "Pose", "PtzHead", "Waypoint"]


@attrs.frozen
class Pose:
    """One position of the head."""

    pan: float = 0.0
    tilt: float = 0.0
    zoom: float = 0.0
    focus: float = 0.0


@attrs.frozen
class Waypoint:
    """A tour stop: a pose, the fraction of top speed to reach it (0 < speed <= 1), the dwell."""

    pose: Pose
    speed: float = 1.0
    dwell: float = 0.0


@attrs.define
class Axis:
    """One motor: a value that stays, runs at a velocity, or travels to a target at a speed."""

    low: float
    high: float
    max_speed: float
    wrap: bool = False
    origin: float = 0.0
    t0: float = 0.0
    velocity: float = 0.0
    target: float | None = None

    def _bound(self, value: float) -> float:
        if self.wrap:
            span = self.high - self.low
            return (value - self.low) % span + self.low
        return min(self.high, max(self.low, value))

    def value(self, now: float) -> float:
        """The position at time ``now``."""
        elapsed = max(0.0, now - self.t0)
        if self.target is not None:
            distance = self.target - self.origin
            travel = abs(self.velocity) * elapsed
            if travel >= abs(distance):
                return self.target
            return self.origin + math.copysign(travel, distance)
        return self._bound(self.origin + self.velocity * elapsed)

    def moving(self, now: float) -> bool:
        """Whether the value still changes after ``now``."""
        if self.target is not None:
            return self.value(now) != self.target
        if self.velocity == 0.0:
            return False
        if self.wrap:
            return True
        current = self.value(now)
        return (self.velocity > 0 and current < self.high) or (
            self.velocity < 0 and current > self.low
        )

    def _restart(self, now: float) -> None:
        self.origin = self.value(now)
        self.t0 = now

    def goto(self, now: float, target: float, speed: float = 1.0) -> None:
        """Travel to ``target`` (clamped to the range) at ``speed`` x the motor's top speed."""
        self._restart(now)
        self.target = min(self.high, max(self.low, target))
        self.velocity = self.max_speed * max(0.01, min(1.0, speed))

    def run(self, now: float, fraction: float) -> None:
        """Run continuously at ``fraction`` (-1..1) of the top speed; 0 stops."""
        self._restart(now)
        self.target = None
        self.velocity = self.max_speed * max(-1.0, min(1.0, fraction))

    def stop(self, now: float) -> None:
        """Stop where the motor is at ``now``."""
        self.run(now, 0.0)

    def place(self, now: float, value: float) -> None:
        """Put the motor at ``value`` at once (used when a tour hands control back)."""
        self.origin = self._bound(value)
        self.t0 = now
        self.velocity = 0.0
        self.target = None


class _Tour:
    """A looping walk through waypoints, started from ``start`` at ``t0``."""

    def __init__(
        self, t0: float, start: Pose, stops: Sequence[Waypoint], axes: Sequence[Axis]
    ) -> None:
        self.t0 = t0
        self.legs: list[tuple[Pose, Pose, float, float]] = []  # (from, to, travel s, dwell s)
        previous = start
        for stop in stops:
            self.legs.append(
                (previous, stop.pose, _travel_time(previous, stop, axes), max(0.0, stop.dwell))
            )
            previous = stop.pose
        # The first leg runs once, from wherever the head was; the loop closes on the first stop.
        first = stops[0]
        self.closing = (previous, first.pose, _travel_time(previous, first, axes), first.dwell)
        self.cycle = [*self.legs[1:], self.closing]
        self.lead = self.legs[0][2] + self.legs[0][3]
        self.period = sum(leg[2] + leg[3] for leg in self.cycle)

    def pose(self, now: float) -> Pose:
        elapsed = max(0.0, now - self.t0)
        if elapsed < self.lead or self.period <= 0.0:
            return _along(self.legs[0], min(elapsed, self.lead))
        elapsed = (elapsed - self.lead) % self.period
        for leg in self.cycle:
            span = leg[2] + leg[3]
            if elapsed < span:
                return _along(leg, elapsed)
            elapsed -= span
        return self.cycle[-1][1]


def _travel_time(start: Pose, stop: Waypoint, axes: Sequence[Axis]) -> float:
    deltas = (
        stop.pose.pan - start.pan,
        stop.pose.tilt - start.tilt,
        stop.pose.zoom - start.zoom,
        stop.pose.focus - start.focus,
    )
    speed = max(0.01, min(1.0, stop.speed))
    return max(abs(d) / (axis.max_speed * speed) for d, axis in zip(deltas, axes, strict=False))


def _along(leg: tuple[Pose, Pose, float, float], elapsed: float) -> Pose:
    start, end, travel, _dwell = leg
    if travel <= 0.0 or elapsed >= travel:
        return end
    k = elapsed / travel
    return Pose(
        pan=start.pan + (end.pan - start.pan) * k,
        tilt=start.tilt + (end.tilt - start.tilt) * k,
        zoom=start.zoom + (end.zoom - start.zoom) * k,
        focus=start.focus + (end.focus - start.focus) * k,
    )


#: Degrees (or steps) a ``move=<direction>`` command travels (5.3.1.1: "5 degrees").
STEP_DEGREES = 5.0
_DIRECTIONS = {
    "up": (0.0, 1.0),
    "down": (0.0, -1.0),
    "left": (-1.0, 0.0),
    "right": (1.0, 0.0),
    "upleft": (-1.0, 1.0),
    "upright": (1.0, 1.0),
    "downleft": (-1.0, -1.0),
    "downright": (1.0, -1.0),
}


class PtzHead:
    """The simulated head: five motors (pan, tilt, zoom, focus, iris), a home pose, a tour.

    Commands take the current time ``now`` in seconds of :attr:`clock` (``time.monotonic`` by
    default), so a test can drive the head with made-up times.  The properties :attr:`pan`,
    :attr:`tilt` ... read the live values at ``clock()`` for code that only wants "where is the
    head now".  ``speed_scale`` multiplies every top speed (slow a move down to watch it).
    """

    PAN_SPEED = 120.0
    TILT_SPEED = 90.0
    ZOOM_SPEED = 5000.0
    FOCUS_SPEED = 5000.0
    IRIS_SPEED = 50.0

    def __init__(
        self,
        *,
        speed_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        now: float | None = None,
    ) -> None:
        self.clock = clock
        now = clock() if now is None else now
        self.speed_scale = speed_scale
        self.pan_axis = Axis(-180.0, 180.0, self.PAN_SPEED * speed_scale, wrap=True, t0=now)
        self.tilt_axis = Axis(-10.0, 190.0, self.TILT_SPEED * speed_scale, t0=now)
        self.zoom_axis = Axis(0.0, 9999.0, self.ZOOM_SPEED * speed_scale, t0=now)
        self.focus_axis = Axis(0.0, 9999.0, self.FOCUS_SPEED * speed_scale, t0=now)
        self.iris_axis = Axis(0.0, 100.0, self.IRIS_SPEED * speed_scale, origin=50.0, t0=now)
        self.home = Pose()
        #: Last ``autofocus`` keyword (``on``, ``off``, ``pushaf``...).
        self.autofocus_mode = "on"
        #: Image brightness the simulated sensor reports (untouched by PTZ commands).
        self.brightness = 50.0
        self._tour: _Tour | None = None
        self.tour_name: str | None = None

    # -- live view ---------------------------------------------------------------------------

    def now(self) -> float:
        """The head's clock."""
        return self.clock()

    @property
    def pan(self) -> float:
        """Pan in degrees now."""
        return self.pose(self.clock()).pan

    @property
    def tilt(self) -> float:
        """Tilt in degrees now."""
        return self.pose(self.clock()).tilt

    @property
    def zoom(self) -> float:
        """Zoom steps now."""
        return self.pose(self.clock()).zoom

    @property
    def focus(self) -> float:
        """Focus steps now."""
        return self.pose(self.clock()).focus

    @property
    def iris(self) -> float:
        """Iris opening now (0..100)."""
        return self.iris_axis.value(self.clock())

    @property
    def autofocus(self) -> bool:
        """Whether continuous autofocus is on."""
        return self.autofocus_mode in ("on", "zoomtrigger")

    @property
    def pan_speed(self) -> float:
        """Degrees per second of a continuous pan (0 when not panning continuously)."""
        return 0.0 if self.pan_axis.target is not None else self.pan_axis.velocity

    @property
    def tilt_speed(self) -> float:
        """Degrees per second of a continuous tilt."""
        return 0.0 if self.tilt_axis.target is not None else self.tilt_axis.velocity

    @property
    def zoom_speed(self) -> float:
        """Steps per second of a continuous zoom."""
        return 0.0 if self.zoom_axis.target is not None else self.zoom_axis.velocity

    @property
    def focus_speed(self) -> float:
        """Steps per second of a continuous focus move."""
        return 0.0 if self.focus_axis.target is not None else self.focus_axis.velocity

    # -- commands ----------------------------------------------------------------------------

    @property
    def _axes(self) -> tuple[Axis, Axis, Axis, Axis]:
        return (self.pan_axis, self.tilt_axis, self.zoom_axis, self.focus_axis)

    def pose(self, now: float) -> Pose:
        """Where the head is at ``now``."""
        if self._tour is not None:
            return self._tour.pose(now)
        return Pose(
            pan=self.pan_axis.value(now),
            tilt=self.tilt_axis.value(now),
            zoom=self.zoom_axis.value(now),
            focus=self.focus_axis.value(now),
        )

    def destination(self, now: float) -> Pose:
        """Where the head will rest: each motor's target, or its value at ``now``."""
        if self._tour is not None:
            return self._tour.pose(now)
        values = [
            axis.target if axis.target is not None else axis.value(now) for axis in self._axes
        ]
        return Pose(*values)

    def iris_value(self, now: float) -> float:
        """The iris opening (0 closed .. 100 open) at ``now``."""
        return self.iris_axis.value(now)

    def moving(self, now: float) -> bool:
        """Whether any motor is still moving after ``now`` (a running tour always is)."""
        if self._tour is not None:
            return True
        return any(axis.moving(now) for axis in (*self._axes, self.iris_axis))

    def _take_over(self, now: float) -> None:
        """End a tour where it is, so a new command starts from the current pose."""
        if self._tour is None:
            return
        pose = self._tour.pose(now)
        self._tour = None
        self.tour_name = None
        for axis, value in zip(
            self._axes, (pose.pan, pose.tilt, pose.zoom, pose.focus), strict=True
        ):
            axis.place(now, value)

    def goto(
        self,
        now: float,
        *,
        pan: float | None = None,
        tilt: float | None = None,
        zoom: float | None = None,
        focus: float | None = None,
        speed: float = 1.0,
    ) -> None:
        """Travel to the given absolute values; the others keep their current motion."""
        self._take_over(now)
        for axis, target in zip(self._axes, (pan, tilt, zoom, focus), strict=True):
            if target is not None:
                axis.goto(now, target, speed)

    def goto_pose(self, now: float, pose: Pose, speed: float = 1.0) -> None:
        """Travel to ``pose``."""
        self.goto(now, pan=pose.pan, tilt=pose.tilt, zoom=pose.zoom, focus=pose.focus, speed=speed)

    def relative(
        self,
        now: float,
        *,
        pan: float = 0.0,
        tilt: float = 0.0,
        zoom: float = 0.0,
        focus: float = 0.0,
    ) -> None:
        """Travel by the given amounts from the current position (pan wraps into -180..180)."""
        current = self.pose(now)
        target_pan = None
        if pan:
            target_pan = (current.pan + pan + 180.0) % 360.0 - 180.0
        self.goto(
            now,
            pan=target_pan,
            tilt=current.tilt + tilt if tilt else None,
            zoom=current.zoom + zoom if zoom else None,
            focus=current.focus + focus if focus else None,
        )

    def step(self, now: float, direction: str) -> None:
        """``move=<direction>``: 5 degrees that way; ``home`` goes to the home pose."""
        if direction == "home":
            self.goto_pose(now, self.home)
            return
        dx, dy = _DIRECTIONS[direction]
        self.relative(now, pan=dx * STEP_DEGREES, tilt=dy * STEP_DEGREES)

    def continuous(
        self,
        now: float,
        *,
        pan: float | None = None,
        tilt: float | None = None,
        zoom: float | None = None,
        focus: float | None = None,
        iris: float | None = None,
    ) -> None:
        """Run motors at -100..100 percent of their top speed; 0 stops that motor."""
        self._take_over(now)
        for axis, percent in zip(
            (*self._axes, self.iris_axis), (pan, tilt, zoom, focus, iris), strict=True
        ):
            if percent is not None:
                axis.run(now, percent / 100.0)

    def stop(self, now: float) -> None:
        """Stop every motor where it is."""
        self._take_over(now)
        for axis in (*self._axes, self.iris_axis):
            axis.stop(now)

    def start_tour(self, now: float, stops: Sequence[Waypoint], name: str) -> None:
        """Loop through ``stops`` (autopan, cruise, sequence line) until another command."""
        if not stops:
            raise ValueError("a tour needs at least one stop")
        start = self.pose(now)
        self.stop(now)
        self._tour = _Tour(now, start, stops, self._axes)
        self.tour_name = name
