"""Calendars against real 2026 Indonesian dates (WIT, UTC+9)."""
from __future__ import annotations

import time as clock
from datetime import date, datetime, time, timedelta, timezone
from itertools import islice
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from workflow_engine.calendars import END_OF_TIME, TwentyFourSeven, WorkingHours, calendar_for

WIT = ZoneInfo("Asia/Jayapura")
UTC = timezone.utc
HOUR = 3600


def wit(*args) -> datetime:
    return datetime(*args, tzinfo=WIT)


@pytest.fixture(scope="module")
def office() -> WorkingHours:
    return WorkingHours()


# --- 24x7 -----------------------------------------------------------------------------------

def test_247_elapsed_is_wall_clock():
    assert TwentyFourSeven().elapsed(wit(2026, 3, 20, 15), wit(2026, 3, 23, 9)) == 66 * HOUR


def test_247_elapsed_is_zero_when_end_not_after_start():
    cal = TwentyFourSeven()
    assert cal.elapsed(wit(2026, 1, 2), wit(2026, 1, 1)) == 0
    assert cal.elapsed(wit(2026, 1, 2), wit(2026, 1, 2)) == 0


def test_247_add_crosses_weekends_and_holidays():
    assert TwentyFourSeven().add(wit(2026, 3, 20, 15), 24 * HOUR) == wit(2026, 3, 21, 15)


def test_247_add_zero_returns_start():
    start = wit(2026, 3, 20, 15, 30)
    assert TwentyFourSeven().add(start, 0) == start


def test_247_add_returns_utc():
    assert TwentyFourSeven().add(wit(2026, 1, 5, 9), 60).tzinfo == UTC


def test_247_single_open_ended_interval():
    start = wit(2026, 1, 5, 9)
    assert list(TwentyFourSeven().intervals(start)) == [(start, END_OF_TIME)]


def test_247_everything_counts():
    assert TwentyFourSeven().is_counted(wit(2026, 3, 21, 3))


def test_247_adding_across_offsets_agrees_with_utc():
    start = datetime(2026, 1, 5, 0, 30, tzinfo=UTC)
    assert TwentyFourSeven().add(start.astimezone(WIT), 90) == start + timedelta(seconds=90)


# --- working hours: counting ------------------------------------------------------------------

def test_friday_afternoon_plus_two_hours_is_monday_nine(office):
    # Friday 2026-01-09 15:00 WIT: one hour left today, one more on Monday from 08:00.
    assert office.add(wit(2026, 1, 9, 15), 2 * HOUR) == wit(2026, 1, 12, 9)


def test_add_that_exactly_uses_the_day_lands_on_closing(office):
    assert office.add(wit(2026, 1, 9, 15), 1 * HOUR) == wit(2026, 1, 9, 16)


def test_add_zero_inside_hours_returns_start(office):
    assert office.add(wit(2026, 1, 9, 10, 15), 0) == wit(2026, 1, 9, 10, 15)


def test_add_zero_outside_hours_returns_next_opening(office):
    assert office.add(wit(2026, 1, 9, 17), 0) == wit(2026, 1, 12, 8)


def test_add_from_before_opening_starts_at_opening(office):
    assert office.add(wit(2026, 1, 12, 6), 30 * 60) == wit(2026, 1, 12, 8, 30)


def test_add_24_working_hours_is_three_office_days(office):
    # Registered Monday 10:00 WIT; 24 working hours = 3 x 8 h -> Thursday 10:00.
    assert office.add(wit(2026, 1, 12, 10), 24 * HOUR) == wit(2026, 1, 15, 10)


def test_eid_week_is_skipped(office):
    # 2026-03-18 (Wed) .. 03-24 (Tue): Nyepi, cuti bersama and Idul Fitri; next working day is 25th.
    assert office.add(wit(2026, 3, 17, 15), 2 * HOUR) == wit(2026, 3, 25, 9)


@pytest.mark.parametrize("day", [18, 19, 20, 23, 24])
def test_eid_week_weekdays_are_not_counted(office, day):
    assert not office.is_counted(wit(2026, 3, day, 10))
    assert not office.is_working_day(date(2026, 3, day))


def test_cuti_bersama_is_a_holiday(office):
    # 2026-03-20 is an "Eid al-Fitr Joint Holiday" (government category), a Friday.
    assert date(2026, 3, 20) in office.holidays(2026)
    assert date(2026, 2, 16) in office.holidays(2026)  # Lunar New Year joint holiday


def test_public_holiday_independence_day(office):
    assert not office.is_working_day(date(2026, 8, 17))


def test_elapsed_over_eid_week_counts_only_bordering_days(office):
    # Tue 17 Mar 12:00 -> Wed 25 Mar 12:00: 4 h on the 17th + 4 h on the 25th.
    assert office.elapsed(wit(2026, 3, 17, 12), wit(2026, 3, 25, 12)) == 8 * HOUR


def test_extra_local_holiday_is_skipped():
    local = WorkingHours(extra_holidays=[date(2026, 1, 12)])
    assert local.add(wit(2026, 1, 9, 15), 2 * HOUR) == wit(2026, 1, 13, 9)
    assert not local.is_counted(wit(2026, 1, 12, 10))


def test_extra_holidays_accept_iso_strings():
    assert not WorkingHours(extra_holidays=["2026-01-12"]).is_working_day(date(2026, 1, 12))


def test_extra_holiday_does_not_leak_into_other_calendars(office):
    WorkingHours(extra_holidays=[date(2026, 1, 13)]).holidays(2026)
    assert office.is_working_day(date(2026, 1, 13))


def test_elapsed_across_weekend(office):
    # Friday 14:00 -> Monday 10:00 = 2 h + 2 h.
    assert office.elapsed(wit(2026, 1, 9, 14), wit(2026, 1, 12, 10)) == 4 * HOUR


def test_elapsed_within_one_day(office):
    assert office.elapsed(wit(2026, 1, 12, 9, 30), wit(2026, 1, 12, 11)) == 1.5 * HOUR


def test_elapsed_outside_hours_is_zero(office):
    assert office.elapsed(wit(2026, 1, 12, 17), wit(2026, 1, 13, 7)) == 0


def test_elapsed_reversed_is_zero(office):
    assert office.elapsed(wit(2026, 1, 13), wit(2026, 1, 12)) == 0


def test_elapsed_accepts_any_zone(office):
    start = wit(2026, 1, 12, 9).astimezone(ZoneInfo("Asia/Jakarta"))
    end = wit(2026, 1, 12, 11).astimezone(UTC)
    assert office.elapsed(start, end) == 2 * HOUR


def test_elapsed_over_2026_counts_every_working_day(office):
    start, end = wit(2026, 1, 1), wit(2027, 1, 1)
    weekdays = sum(1 for n in range(365) if (date(2026, 1, 1) + timedelta(n)).weekday() < 5)
    weekday_holidays = sum(1 for d in office.holidays(2026) if d.weekday() < 5)
    assert office.elapsed(start, end) == (weekdays - weekday_holidays) * 8 * HOUR


def test_elapsed_over_a_year_is_fast(office):
    start, end = wit(2026, 1, 1, 10), wit(2027, 1, 1, 10)
    office.elapsed(start, end)  # warm the holiday cache
    began = clock.perf_counter()
    for _ in range(20):
        office.elapsed(start, end)
    assert (clock.perf_counter() - began) / 20 < 0.005


def test_add_over_a_year_is_fast(office):
    began = clock.perf_counter()
    office.add(wit(2026, 1, 1), 1900 * HOUR)
    assert clock.perf_counter() - began < 0.05


# --- working hours: intervals and is_counted -------------------------------------------------

def test_intervals_start_mid_day_and_skip_weekend(office):
    got = list(islice(office.intervals(wit(2026, 1, 9, 15)), 2))
    assert got == [(wit(2026, 1, 9, 15), wit(2026, 1, 9, 16)), (wit(2026, 1, 12, 8), wit(2026, 1, 12, 16))]


def test_intervals_are_utc(office):
    lo, hi = next(office.intervals(wit(2026, 1, 12, 7)))
    assert lo.tzinfo == UTC and lo == datetime(2026, 1, 11, 23, tzinfo=UTC)
    assert hi == datetime(2026, 1, 12, 7, tzinfo=UTC)


def test_intervals_after_closing_start_next_day(office):
    lo, _ = next(office.intervals(wit(2026, 1, 12, 16)))
    assert lo == wit(2026, 1, 13, 8)


def test_is_counted_half_open(office):
    assert office.is_counted(wit(2026, 1, 12, 8))
    assert office.is_counted(wit(2026, 1, 12, 15, 59, 59))
    assert not office.is_counted(wit(2026, 1, 12, 16))
    assert not office.is_counted(wit(2026, 1, 12, 7, 59))


def test_is_counted_weekend(office):
    assert not office.is_counted(wit(2026, 1, 10, 10))


def test_office_zone_matters():
    # 08:00 in Jakarta (WIB) is 10:00 WIT: counted in a Jakarta office, not before 08:00 WIB.
    jakarta = WorkingHours(tz="Asia/Jakarta")
    assert jakarta.is_counted(wit(2026, 1, 12, 10))
    assert not jakarta.is_counted(wit(2026, 1, 12, 9, 59))


def test_custom_weekdays_and_hours():
    saturday_office = WorkingHours(weekdays=(5,), opens=time(9), closes=time(12))
    assert saturday_office.add(wit(2026, 1, 9, 10), 4 * HOUR) == wit(2026, 1, 17, 10)


# --- validation --------------------------------------------------------------------------------

@pytest.mark.parametrize("cal", [TwentyFourSeven(), WorkingHours()])
def test_naive_datetimes_are_refused(cal):
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.elapsed(datetime(2026, 1, 1), wit(2026, 1, 2))
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add(datetime(2026, 1, 1), 10)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.is_counted(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        next(cal.intervals(datetime(2026, 1, 1)))


@pytest.mark.parametrize("cal", [TwentyFourSeven(), WorkingHours()])
@pytest.mark.parametrize("seconds", [-1, float("nan"), float("inf")])
def test_bad_amounts_are_refused(cal, seconds):
    with pytest.raises(ValueError):
        cal.add(wit(2026, 1, 12, 9), seconds)


def test_opening_must_precede_closing():
    with pytest.raises(ValueError, match="before"):
        WorkingHours(opens=time(16), closes=time(8))


def test_weekdays_must_be_valid():
    with pytest.raises(ValueError):
        WorkingHours(weekdays=())
    with pytest.raises(ValueError):
        WorkingHours(weekdays=(7,))


# --- calendar_for ------------------------------------------------------------------------------

def test_calendar_for_24x7():
    assert isinstance(calendar_for("24x7", tz="Asia/Jayapura"), TwentyFourSeven)


def test_calendar_for_working_hours_uses_zone_and_holidays():
    cal = calendar_for("jam-kerja", tz="Asia/Makassar", extra_holidays=[date(2026, 1, 12)])
    assert isinstance(cal, WorkingHours)
    assert cal.tz == ZoneInfo("Asia/Makassar")
    assert not cal.is_working_day(date(2026, 1, 12))


def test_calendar_for_unknown_kind():
    with pytest.raises(ValueError, match="unknown calendar kind 'weekdays'.*24x7.*jam-kerja"):
        calendar_for("weekdays", tz="Asia/Jayapura")


# --- properties --------------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 2, 1),
                       timezones=st.just(UTC))


@settings(max_examples=150, deadline=None)
@given(start=moments, seconds=st.integers(min_value=1, max_value=400 * HOUR))
def test_add_then_elapsed_round_trips(office, start, seconds):
    end = office.add(start, seconds)
    assert office.elapsed(start, end) == pytest.approx(seconds, abs=1e-6)
    # Earliest such moment: a second earlier not enough time has passed.
    assert office.elapsed(start, end - timedelta(seconds=1)) < seconds


@settings(max_examples=150, deadline=None)
@given(a=moments, b=moments, c=moments)
def test_elapsed_is_additive(office, a, b, c):
    a, b, c = sorted((a, b, c))
    assert office.elapsed(a, c) == pytest.approx(office.elapsed(a, b) + office.elapsed(b, c), abs=1e-6)
