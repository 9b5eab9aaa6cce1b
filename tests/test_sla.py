"""The case clock and step timings as pure functions of records and `as_of`."""
from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from workflow_engine.calendars import TwentyFourSeven, WorkingHours
from workflow_engine.sla import ClockStatus, case_clock, merge_pauses, step_status

WIT = ZoneInfo("Asia/Jayapura")
UTC = timezone.utc
HOUR = 3600
DAY_LIMIT = 24 * HOUR
ALWAYS = TwentyFourSeven()
OFFICE = WorkingHours()
START = datetime(2026, 1, 12, 8, tzinfo=WIT)  # a Monday


def at(hours: float) -> datetime:
    return START + timedelta(hours=hours)


def clock(*, pauses=(), as_of, closed_at=None, calendar=ALWAYS, limit=DAY_LIMIT, start=START, **kw):
    return case_clock(clock_start=start, limit_seconds=limit, calendar=calendar, pauses=list(pauses),
                      as_of=as_of, closed_at=closed_at, **kw)


# --- open cases on 24x7 -------------------------------------------------------------------------

def test_fresh_case_is_on_track():
    s = clock(as_of=at(6))
    assert (s.state, s.used_seconds, s.paused_seconds) == ("on_track", 6 * HOUR, 0)
    assert s.deadline == at(24)
    assert s.remaining_seconds == 18 * HOUR
    assert s.used_share == 0.25
    assert s.limit_seconds == DAY_LIMIT
    assert not s.paused


def test_deadline_is_returned_in_utc():
    assert clock(as_of=at(1)).deadline.tzinfo == UTC


def test_at_risk_threshold_is_inclusive():
    assert clock(as_of=at(18) - timedelta(seconds=1)).state == "on_track"
    assert clock(as_of=at(18)).state == "at_risk"


def test_custom_at_risk_share():
    assert clock(as_of=at(12), at_risk_share=0.5).state == "at_risk"
    assert clock(as_of=at(12)).state == "on_track"


def test_at_the_deadline_is_not_yet_breached():
    s = clock(as_of=at(24))
    assert s.state == "at_risk" and s.used_share == 1.0 and s.remaining_seconds == 0


def test_after_the_deadline_is_breached():
    s = clock(as_of=at(25))
    assert s.state == "breached"
    assert s.remaining_seconds == -1 * HOUR
    assert s.deadline == at(24)


def test_as_of_before_clock_start():
    s = clock(as_of=at(-2))
    assert (s.state, s.used_seconds, s.deadline) == ("on_track", 0, at(24))


# --- pauses ----------------------------------------------------------------------------------

def test_pause_in_the_middle_moves_the_deadline():
    s = clock(pauses=[(at(2), at(4))], as_of=at(6))
    assert (s.used_seconds, s.paused_seconds) == (4 * HOUR, 2 * HOUR)
    assert s.deadline == at(26)
    assert not s.paused


def test_open_pause_keeps_moving_the_deadline():
    first = clock(pauses=[(at(2), None)], as_of=at(4))
    later = clock(pauses=[(at(2), None)], as_of=at(7))
    assert first.paused and later.paused
    assert first.used_seconds == later.used_seconds == 2 * HOUR
    assert first.deadline == at(26) and later.deadline == at(29)
    assert later.paused_seconds == 5 * HOUR


def test_overlapping_pauses_are_merged():
    s = clock(pauses=[(at(2), at(4)), (at(3), at(5)), (at(4.5), at(4.75))], as_of=at(8))
    assert s.paused_seconds == 3 * HOUR
    assert s.used_seconds == 5 * HOUR
    assert s.deadline == at(27)


def test_overlapping_open_and_closed_pauses():
    s = clock(pauses=[(at(2), None), (at(1), at(3))], as_of=at(5))
    assert s.paused and s.paused_seconds == 4 * HOUR and s.used_seconds == 1 * HOUR


def test_pause_before_clock_start_only_counts_after_start():
    s = clock(pauses=[(at(-3), at(1))], as_of=at(2))
    assert s.paused_seconds == 1 * HOUR and s.used_seconds == 1 * HOUR


def test_pause_after_as_of_is_ignored():
    s = clock(pauses=[(at(10), at(12)), (at(11), None)], as_of=at(5))
    assert (s.paused_seconds, s.paused, s.deadline) == (0, False, at(24))


def test_pause_ending_exactly_at_as_of_is_not_open():
    s = clock(pauses=[(at(2), at(4))], as_of=at(4))
    assert not s.paused and s.paused_seconds == 2 * HOUR


def test_breached_case_reports_when_the_limit_was_reached():
    s = clock(pauses=[(at(2), at(4))], as_of=at(30))
    assert s.state == "breached" and s.deadline == at(26) and s.used_seconds == 28 * HOUR


def test_pause_after_breach_keeps_it_breached():
    s = clock(pauses=[(at(25), None)], as_of=at(30))
    assert s.state == "breached" and s.paused and s.used_seconds == 25 * HOUR
    assert s.deadline == at(24)


# --- closed cases ----------------------------------------------------------------------------

def test_closed_in_time_is_met():
    s = clock(as_of=at(40), closed_at=at(20))
    assert (s.state, s.used_seconds, s.remaining_seconds) == ("met", 20 * HOUR, 4 * HOUR)


def test_closed_exactly_at_the_deadline_is_met():
    assert clock(as_of=at(40), closed_at=at(24)).state == "met"


def test_closed_late_is_missed():
    s = clock(as_of=at(40), closed_at=at(30))
    assert s.state == "missed" and s.used_seconds == 30 * HOUR


def test_closed_late_but_paused_long_enough_is_met():
    assert clock(pauses=[(at(2), at(10))], as_of=at(40), closed_at=at(30)).state == "met"


def test_closed_while_paused_stops_the_pause_at_closing():
    s = clock(pauses=[(at(10), None)], as_of=at(40), closed_at=at(12))
    assert s.state == "met" and s.paused and s.paused_seconds == 2 * HOUR


def test_as_of_before_closed_at_sees_an_open_case():
    s = clock(as_of=at(10), closed_at=at(30))
    assert (s.state, s.used_seconds) == ("on_track", 10 * HOUR)
    assert clock(as_of=at(26), closed_at=at(30)).state == "breached"


# --- clock not started ---------------------------------------------------------------------------

def test_clock_not_started():
    s = clock(start=None, as_of=at(100))
    assert s == ClockStatus(deadline=None, limit_seconds=DAY_LIMIT, used_seconds=0.0, paused_seconds=0.0,
                            remaining_seconds=None, used_share=0.0, state="on_track", paused=False)


def test_clock_never_started_but_closed_is_met():
    assert clock(start=None, as_of=at(100), closed_at=at(5)).state == "met"


# --- working hours -----------------------------------------------------------------------------

FRIDAY_2PM = datetime(2026, 1, 9, 14, tzinfo=WIT)


def test_working_hours_deadline_skips_the_weekend():
    s = clock(start=FRIDAY_2PM, calendar=OFFICE, limit=8 * HOUR, as_of=datetime(2026, 1, 10, 12, tzinfo=WIT))
    assert s.used_seconds == 2 * HOUR and s.state == "on_track"
    assert s.deadline == datetime(2026, 1, 12, 14, tzinfo=WIT)


def test_working_hours_pause_over_weekend_counts_only_office_time():
    s = clock(start=FRIDAY_2PM, calendar=OFFICE, limit=8 * HOUR,
              pauses=[(datetime(2026, 1, 9, 15, tzinfo=WIT), datetime(2026, 1, 12, 9, tzinfo=WIT))],
              as_of=datetime(2026, 1, 12, 10, tzinfo=WIT))
    assert s.paused_seconds == 2 * HOUR and s.used_seconds == 2 * HOUR
    assert s.deadline == datetime(2026, 1, 12, 16, tzinfo=WIT)


def test_working_hours_deadline_at_closing_is_breached_that_evening():
    monday = datetime(2026, 1, 12, 8, tzinfo=WIT)
    s = clock(start=monday, calendar=OFFICE, limit=8 * HOUR, as_of=datetime(2026, 1, 12, 17, tzinfo=WIT))
    assert s.deadline == datetime(2026, 1, 12, 16, tzinfo=WIT)
    assert s.state == "breached" and s.remaining_seconds == 0


def test_working_hours_24h_limit_over_eid():
    s = clock(start=datetime(2026, 3, 17, 10, tzinfo=WIT), calendar=OFFICE,
              as_of=datetime(2026, 3, 20, 10, tzinfo=WIT))
    assert s.used_seconds == 6 * HOUR and s.state == "on_track"
    # 6 h on Tue 17th; 18th-24th are holidays; then 8 h on the 25th, 8 h on the 26th, 2 h on the 27th.
    assert s.deadline == datetime(2026, 3, 27, 10, tzinfo=WIT)


def test_open_pause_outside_office_hours_does_not_move_deadline():
    pauses = [(datetime(2026, 1, 12, 17, tzinfo=WIT), None)]
    early = clock(calendar=OFFICE, pauses=pauses, as_of=datetime(2026, 1, 12, 18, tzinfo=WIT))
    late = clock(calendar=OFFICE, pauses=pauses, as_of=datetime(2026, 1, 12, 23, tzinfo=WIT))
    assert early.deadline == late.deadline == datetime(2026, 1, 14, 16, tzinfo=WIT)
    assert early.paused and early.paused_seconds == 0


# --- validation --------------------------------------------------------------------------------

def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="as_of"):
        clock(as_of=datetime(2026, 1, 12))
    with pytest.raises(ValueError, match="clock_start"):
        clock(start=datetime(2026, 1, 12), as_of=at(1))
    with pytest.raises(ValueError, match="closed_at"):
        clock(as_of=at(1), closed_at=datetime(2026, 1, 12))
    with pytest.raises(ValueError, match="pauses"):
        clock(pauses=[(datetime(2026, 1, 12), None)], as_of=at(1))


@pytest.mark.parametrize("limit", [0, -5, float("nan")])
def test_bad_limit_is_refused(limit):
    with pytest.raises(ValueError, match="limit_seconds"):
        clock(as_of=at(1), limit=limit)


def test_pause_ending_before_it_starts_is_refused():
    with pytest.raises(ValueError, match="before it starts"):
        clock(pauses=[(at(3), at(2))], as_of=at(5))


def test_bad_at_risk_share_is_refused():
    with pytest.raises(ValueError, match="at_risk_share"):
        clock(as_of=at(1), at_risk_share=1.5)


def test_status_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        clock(as_of=at(1)).state = "met"


def test_merge_pauses_sorts_clips_and_merges():
    got = merge_pauses([(at(5), at(6)), (at(1), at(3)), (at(2), None)], lower=at(0), upper=at(4))
    assert got == [(at(1), at(4))]


# --- properties --------------------------------------------------------------------------------

offsets = st.integers(min_value=0, max_value=20 * 24 * 60)  # minutes after START


@settings(max_examples=150, deadline=None)
@given(raw=st.lists(st.tuples(offsets, st.integers(0, 3 * 24 * 60)), max_size=5), when=offsets,
       office=st.booleans())
def test_used_time_at_the_deadline_equals_the_limit(raw, when, office):
    calendar = OFFICE if office else ALWAYS
    # Only what is known at `when`: pauses started by then, cut off there.
    pauses = [(START + timedelta(minutes=a), START + timedelta(minutes=min(a + n, when)))
              for a, n in raw if a <= when]
    s = clock(pauses=pauses, as_of=START + timedelta(minutes=when), calendar=calendar)
    again = clock(pauses=pauses, as_of=s.deadline, calendar=calendar)
    assert again.used_seconds == pytest.approx(DAY_LIMIT)
    assert again.state == "at_risk"
    assert s.used_seconds + s.paused_seconds == pytest.approx(
        calendar.elapsed(START, START + timedelta(minutes=when)))


# --- step_status ---------------------------------------------------------------------------------

def test_open_step_uses_as_of():
    got = step_status(ready_at=at(1), completed_at=None, budget_seconds=3 * HOUR, calendar=OFFICE, as_of=at(3))
    assert got == {"duration_seconds": 2 * HOUR, "wall_seconds": 2 * HOUR, "budget_seconds": 3 * HOUR,
                   "over_budget": False, "completed": False}


def test_completed_step_over_the_weekend():
    got = step_status(ready_at=datetime(2026, 1, 9, 15, tzinfo=WIT), completed_at=datetime(2026, 1, 12, 9, tzinfo=WIT),
                      budget_seconds=HOUR, calendar=OFFICE, as_of=datetime(2026, 2, 1, tzinfo=WIT))
    assert got["duration_seconds"] == 2 * HOUR and got["wall_seconds"] == 66 * HOUR
    assert got["over_budget"] is True and got["completed"] is True


def test_step_without_budget():
    got = step_status(ready_at=at(0), completed_at=at(1), budget_seconds=None, calendar=ALWAYS, as_of=at(2))
    assert got["over_budget"] is None and got["duration_seconds"] == HOUR


def test_step_completed_after_as_of_is_still_open():
    got = step_status(ready_at=at(0), completed_at=at(5), budget_seconds=2 * HOUR, calendar=ALWAYS, as_of=at(1))
    assert got["completed"] is False and got["duration_seconds"] == HOUR and got["over_budget"] is False


def test_step_not_ready_yet_as_of():
    got = step_status(ready_at=at(5), completed_at=None, budget_seconds=HOUR, calendar=ALWAYS, as_of=at(1))
    assert got["duration_seconds"] == 0 and got["wall_seconds"] == 0


def test_step_exactly_on_budget_is_not_over():
    got = step_status(ready_at=at(0), completed_at=at(1), budget_seconds=HOUR, calendar=ALWAYS, as_of=at(1))
    assert got["over_budget"] is False


def test_step_refuses_naive_and_reversed_times():
    with pytest.raises(ValueError, match="ready_at"):
        step_status(ready_at=datetime(2026, 1, 1), completed_at=None, budget_seconds=None, calendar=ALWAYS, as_of=at(1))
    with pytest.raises(ValueError, match="before ready_at"):
        step_status(ready_at=at(2), completed_at=at(1), budget_seconds=None, calendar=ALWAYS, as_of=at(3))


def test_pause_before_clock_start_is_reported_as_paused():
    s = clock(start=None, pauses=[(at(-1), None)], as_of=at(1))
    assert s.paused and s.state == "on_track" and s.deadline is None
