"""The API's paged case list: newest first, stable while cases arrive, filters, practice cases left out."""
from __future__ import annotations

from datetime import timedelta

import pytest

from workflow_engine import InvalidState


@pytest.fixture
def seven(engine, clock, deploy):
    """Seven linear3 cases a minute apart, oldest first, plus one practice case."""
    deploy("linear3.bpmn")
    ids = []
    for _ in range(7):
        ids.append(engine.start_case("linear3", actor="fo"))
        clock.advance(minutes=1)
    engine.start_case("linear3", actor="fo", practice=True)
    return ids


def _pages(engine, **filters) -> list[list[int]]:
    pages, after = [], None
    while True:
        page = engine.case_page(after=after, **filters)
        pages.append([c["id"] for c in page["items"]])
        after = page["next"]
        if after is None:
            return pages


def test_pages_run_newest_first_without_practice_cases(engine, seven):
    assert _pages(engine, limit=3) == [seven[::-1][:3], seven[::-1][3:6], seven[::-1][6:]]


def test_the_last_full_page_says_there_is_no_more(engine, seven):
    page = engine.case_page(limit=7)
    assert len(page["items"]) == 7 and page["next"] is None


def test_cases_registered_while_paging_neither_shift_nor_repeat_pages(engine, seven, clock):
    first = engine.case_page(limit=3)
    for _ in range(4):
        engine.start_case("linear3", actor="fo")
    rest = _pages(engine, limit=3)  # a fresh start sees the new ones; the old cursor does not
    second = engine.case_page(limit=3, after=first["next"])
    assert [c["id"] for c in second["items"]] == seven[::-1][3:6]
    assert len(sum(rest, [])) == 11


def test_cases_registered_at_the_same_moment_are_ordered_by_id(engine, deploy):
    deploy("linear3.bpmn")
    ids = [engine.start_case("linear3") for _ in range(5)]  # the test clock stands still
    assert _pages(engine, limit=2) == [ids[::-1][:2], ids[::-1][2:4], ids[::-1][4:]]


def test_filters_by_status_and_period(engine, seven, clock):
    engine.cancel(seven[0], user="admin")
    assert [c["id"] for c in engine.case_page(status="cancelled")["items"]] == [seven[0]]
    start = engine.case(seven[2])["started_at"]
    from datetime import datetime

    since = datetime.fromisoformat(start)
    until = since + timedelta(minutes=2)
    assert [c["id"] for c in engine.case_page(since=since, until=until)["items"]] == [seven[3], seven[2]]


def test_filters_by_sla_state_computed_now(engine, seven, clock):
    clock.advance(hours=23)  # every case has used more than 75% of its 24 hours
    assert [c["id"] for c in engine.case_page(sla_state="at_risk")["items"]] == seven[::-1]
    clock.advance(minutes=58)  # 24 h 05 min after the first: the five oldest are past their deadline
    page = engine.case_page(sla_state="breached", limit=2)
    assert [c["id"] for c in page["items"]] == [seven[4], seven[3]]
    rest = engine.case_page(sla_state="breached", limit=10, after=page["next"])
    assert [c["id"] for c in rest["items"]] == [seven[2], seven[1], seven[0]] and rest["next"] is None


@pytest.mark.parametrize("filters, message", [
    ({"status": "open"}, "unknown status"),
    ({"sla_state": "late"}, "unknown SLA state"),
    ({"limit": 0}, "limit"),
    ({"limit": 201}, "limit"),
])
def test_bad_filters_are_refused(engine, filters, message):
    with pytest.raises(InvalidState, match=message):
        engine.case_page(**filters)
