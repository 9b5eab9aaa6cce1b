"""The office the demo history imitates, and the knobs that tune it.

- Files arrive while the counter is open (Mon–Fri 08:00–15:00 WIT, no national holidays; the
  office works until 16:00), busiest in the morning, over the `days` days before now, spread over
  every deployed SOP. The first 45 % of the period uses version 1 of each SOP; then the newest
  version is published and takes over, with a week's overlap in which some files still follow v1.
- Staff work only in office hours. A step waits minutes to hours in an inbox sorted by deadline,
  then takes a lognormal share of its time budget (`mutu.waktu`; median 0.7, long right tail), both
  counted in working time. The applicant at the counter is served at once. Heads of office are
  away on some days (the Kepala Dinas on ~20 %, and on a duty trip over the last two working days
  before now); their tasks wait for their return unless the step is signed electronically (TTE)
  or delegated. Applicant-side steps (`sla.jeda`) take 0.5–3 calendar days, recorded at the counter
  or online at any waking hour.
- Decisions mostly move files on: ~20 % of first completeness checks return the file, ~5 % of
  cases are refused at some decision, a few applicants never come back (cancelled after 14 days).
- Form data is generated from each field's type, constraints and name (Indonesian names, 16-digit
  NIKs, phone numbers, places in Tolikara, document numbers) and checked with `validate_form`.
- A few scripted files make sure every open SLA state (on track, at risk, breached) shows now,
  whatever the hour: late arrivals, files returned and not fixed yet, files on an absent signer's desk.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import time
from typing import Any

HOUR = 3600.0
DAY = 86400.0

SWITCH_SHARE = 0.45          # share of the period before the newest version is published
OVERLAP_DAYS = 7.0           # after publishing, old forms linger this long ...
OVERLAP_OLD_SHARE = 0.35     # ... starting with this share of new files on the old version
WORK_MEDIAN = 0.7            # work time / budget, median
WORK_SIGMA = 0.4             # lognormal spread of work time
CASE_SIGMA = 0.2             # some files are harder than others: one factor per case
WAIT_MEDIAN = 6 * 60.0       # working seconds before a clerk picks a step up, median
WAIT_SIGMA = 1.0
HEAD_WAIT_MEDIAN = 20 * 60.0  # signers work through their pile less often
DEFAULT_BUDGET = 30 * 60.0   # a step without mutu.waktu
CLAIM_SHARE = 0.6            # steps claimed explicitly before work (the rest only completed)
RETURN_FIRST = 0.20          # first completeness check returns the file
RETURN_AGAIN = 0.08          # a re-check after the applicant fixed it
REJECT_PER_DECISION = 0.015  # ~5 % of cases end refused at one of their decisions
SKIP_SHARE = 0.3             # a decision that can skip a step ("not needed") does so this often
ABANDON_SHARE = 0.08         # applicants who never bring the missing papers back
ABANDON_AFTER_DAYS = 14
COUNTER_CLOSES = time(15, 0)   # the counter takes new files until 15:00 (the office closes at 16:00)
COUNTER_SHARE = 0.6          # applicant steps recorded at the counter (office hours); the rest online
HEAD_ABSENT = 0.20           # the head of office (Kepala Dinas) is away on this share of days
OTHER_HEAD_ABSENT = 0.10     # other heads (Kepala Bidang, ...)
TRIP_WORKING_DAYS = 2        # the head of office is away on duty for the last days before now
STAFF_PER_LANE = 3           # clerks per ordinary lane (the demo user plus extras)

Echo = Callable[[str], Any]
