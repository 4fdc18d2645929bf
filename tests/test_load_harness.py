"""The load harness (`python -m bench load`) at two tablets for a few seconds, so that it
cannot rot: a real server process, the lane's work, the workshop board's event stream."""

from __future__ import annotations

from bench import load


async def test_two_tablets_do_the_lanes_work_without_an_error() -> None:
    photo = load.tablet_photo(size=(1000, 750))  # smaller than the tablet's: less CPU here
    stats, problems, _elapsed = await load.run_level(2, 3.0, 0.0, load.fixture_for(photo))
    assert sum(stats.errors.values()) == 0, stats.samples
    assert problems == []
    assert stats.latencies["POST /sign-in"]
    assert stats.latencies["GET /lane"]
    assert stats.latencies["POST step save"]
    assert stats.latencies["GET /workshop/events (open)"]
