"""The benchmark suite runs and reports its figures as `name value unit target` and JSON (times are not asserted)."""
import json
import re
import subprocess
import sys

import pytest
from conftest import ROOT

from bench import growth_bench, reports_bench
from bench.autofill import form_values
from workflow_engine.sop_info import FormField

LINE = re.compile(r"^[a-z0-9_.]+ [-0-9.e+na]+ \S+ (-|<=[0-9.]+)$")


def test_the_engine_part_prints_one_line_per_figure_and_writes_the_same_json(tmp_path):
    out = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, "-m", "bench", "--only", "engine", "--rounds", "1", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines and all(LINE.match(line) for line in lines), lines
    figures = json.loads(out.read_text())
    assert [f["name"] for f in figures] == [line.split()[0] for line in lines]
    ratio = next(f for f in figures if f["name"] == "engine.complete_vs_floor")
    assert ratio["target"] == "<=1.3" and isinstance(ratio["met"], bool) and ratio["samples"] == 19


def test_an_unknown_part_is_refused():
    done = subprocess.run([sys.executable, "-m", "bench", "--only", "engins"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "unknown part(s): engins" in done.stderr


def test_the_growth_figure_compares_the_100th_round_with_the_first():
    figures = {f["name"]: f for f in growth_bench.run(cases=1)}
    assert set(figures) == {"growth.complete_round1_ms", "growth.complete_round100_ms", "growth.round100_vs_round1"}
    ratio = figures["growth.round100_vs_round1"]
    assert ratio["value"] == pytest.approx(figures["growth.complete_round100_ms"]["value"]
                                           / figures["growth.complete_round1_ms"]["value"])


def test_the_reports_part_counts_what_it_ran_on(engine):
    figures = reports_bench.run(engine.db.url.render_as_string(hide_password=False), "test")
    names = [f["name"] for f in figures]
    assert names == ["reports.weekly_compliance_s.test", "reports.step_durations_s.test",
                     "reports.step_durations_per_sop_s.test", "engine.dashboard_ms.test"]
    assert all(f["cases"] == 0 and f["task_rows"] == 0 for f in figures)


def test_filled_values_respect_minlength():
    field = FormField.from_dict({"id": "nib", "label": "NIB", "type": "string",
                                 "constraints": {"minlength": "13"}})
    assert len(form_values([field])["nib"]) >= 13
