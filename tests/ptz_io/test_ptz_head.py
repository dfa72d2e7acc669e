"""The simulator's virtual PTZ head: positions follow time, with no background task."""

from __future__ import annotations

import pytest

from ipcam_async.sim.ptz_head import Pose, PtzHead, Waypoint


def head() -> PtzHead:
    return PtzHead(clock=lambda: 0.0, now=0.0)


def test_goto_travels_at_the_top_speed_and_stops_on_target() -> None:
    h = head()
    h.goto(0.0, pan=90.0, tilt=45.0)
    assert h.moving(0.0)
    half = h.pose(0.375)  # pan 120 deg/s, tilt 90 deg/s
    assert half.pan == pytest.approx(45.0)
    assert half.tilt == pytest.approx(33.75)
    assert h.pose(0.5).tilt == pytest.approx(45.0)
    assert h.pose(0.75) == Pose(pan=90.0, tilt=45.0)
    assert not h.moving(0.75)
    assert h.pose(10.0).pan == 90.0


def test_goto_clamps_to_the_mechanical_range() -> None:
    h = head()
    h.goto(0.0, tilt=500.0, zoom=-5.0)
    assert h.pose(100.0).tilt == 190.0
    assert h.pose(100.0).zoom == 0.0


def test_a_new_command_starts_from_where_the_head_is() -> None:
    h = head()
    h.goto(0.0, pan=120.0)
    h.goto(0.5, pan=0.0)  # at 60 degrees now
    assert h.pose(0.5).pan == pytest.approx(60.0)
    assert h.pose(0.75).pan == pytest.approx(30.0)


def test_continuous_pan_wraps_and_tilt_stops_at_its_limit() -> None:
    h = head()
    h.continuous(0.0, pan=50, tilt=100)  # 60 deg/s, 90 deg/s
    assert h.pose(1.0).pan == pytest.approx(60.0)
    assert h.pose(4.0).pan == pytest.approx(-120.0)  # 240 degrees: wrapped past +180
    assert h.pose(10.0).tilt == 190.0
    assert h.moving(10.0)  # pan keeps going round
    h.continuous(10.0, pan=0)
    resting = h.pose(10.0).pan
    assert h.pose(20.0).pan == pytest.approx(resting)
    assert not h.moving(20.0)


def test_relative_and_step_moves() -> None:
    h = head()
    h.relative(0.0, pan=-190.0)  # wraps into -180..180
    assert h.pose(10.0).pan == pytest.approx(170.0)
    h.step(10.0, "upleft")
    assert h.pose(20.0) == Pose(pan=pytest.approx(165.0), tilt=pytest.approx(5.0))
    h.home = Pose(pan=10.0, tilt=20.0, zoom=30.0, focus=40.0)
    h.step(20.0, "home")
    assert h.pose(30.0) == Pose(10.0, 20.0, 30.0, 40.0)


def test_iris_and_zoom_run_continuously_within_limits() -> None:
    h = head()
    h.continuous(0.0, iris=-100, zoom=100)
    assert h.iris_value(0.5) == pytest.approx(25.0)
    assert h.iris_value(5.0) == 0.0
    assert h.pose(1.0).zoom == pytest.approx(5000.0)
    assert h.pose(5.0).zoom == 9999.0
    assert h.zoom_speed == 5000.0


def test_tour_loops_through_its_stops_until_another_command() -> None:
    h = head()
    stops = [
        Waypoint(Pose(pan=60.0), speed=1.0, dwell=1.0),
        Waypoint(Pose(pan=-60.0), speed=0.5, dwell=0.0),
    ]
    h.start_tour(0.0, stops, "sequence 1")
    assert h.tour_name == "sequence 1"
    assert h.pose(0.25).pan == pytest.approx(30.0)
    assert h.pose(1.0).pan == pytest.approx(60.0)  # arrived at 0.5 s, dwelling until 1.5 s
    assert h.pose(2.5).pan == pytest.approx(0.0)  # 120 degrees at 60 deg/s take 2 s
    assert h.pose(3.5).pan == pytest.approx(-60.0)
    # back to the first stop at full speed (1 s), dwell 1 s, then the cycle again
    assert h.pose(4.0).pan == pytest.approx(0.0)
    assert h.pose(5.0).pan == pytest.approx(60.0)
    period = 1.0 + 1.0 + 2.0
    assert h.pose(4.0 + 10 * period).pan == pytest.approx(0.0)
    assert h.pose(6.0).pan == pytest.approx(30.0)  # 0.5 s into the slow leg of the next cycle
    h.goto(6.0, tilt=10.0)  # ends the tour where it is
    assert h.tour_name is None
    assert h.pose(6.0).pan == pytest.approx(30.0)
    assert h.pose(9.0) == Pose(pan=pytest.approx(30.0), tilt=10.0)
    assert not h.moving(9.0)


def test_live_properties_read_the_clock() -> None:
    now = [0.0]
    h = PtzHead(clock=lambda: now[0])
    h.goto(h.now(), pan=-120.0)
    now[0] = 0.5
    assert h.pan == pytest.approx(-60.0)
    now[0] = 5.0
    assert h.pan == -120.0 and h.tilt == 0.0 and h.iris == 50.0
    assert h.autofocus is True
    h.autofocus_mode = "off"
    assert h.autofocus is False


def test_speed_scale_slows_every_motor() -> None:
    h = PtzHead(speed_scale=0.5, clock=lambda: 0.0, now=0.0)
    h.goto(0.0, pan=60.0)
    assert h.pose(0.5).pan == pytest.approx(30.0)
