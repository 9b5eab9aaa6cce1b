"""The `alur` command, run as a real subprocess: exit codes, stdout (JSON) and stderr."""
from __future__ import annotations

import json
import re
import shutil
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cli_run import PASSWORD, alur_env, ok, ok_json, refused, run_alur
from workflow_engine import Database
from workflow_engine.models import User

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "bpmn"
WIT = ZoneInfo("Asia/Jayapura")
LINEAR_FORM = {"nama_pemohon": "Yakobus Wenda", "jumlah_berkas": 3, "jenis_layanan": "baru",
               "pernyataan_benar": True, "tanggal_permohonan": "2026-11-30"}


# --- helpers -----------------------------------------------------------------------------------
def copy_database(source: Path, target: Path) -> None:
    """Copy a SQLite database including a WAL file a finished process may have left behind."""
    shutil.copyfile(source, target)
    wal = Path(f"{source}-wal")
    if wal.exists():
        shutil.copyfile(wal, Path(f"{target}-wal"))


def registration_years() -> set[int]:
    return {datetime.now(WIT).year}


# --- fixtures ----------------------------------------------------------------------------------
@pytest.fixture
def fresh(tmp_path):
    """An environment whose SQLite database does not exist yet (the CLI creates it)."""
    return alur_env(f"sqlite:///{tmp_path / 'a.sqlite'}", tmp_path)


@pytest.fixture(scope="module")
def office_template(tmp_path_factory):
    """A database made once through the CLI: users per lane, linear3 and parallel deployed."""
    folder = tmp_path_factory.mktemp("office")
    env = alur_env(f"sqlite:///{folder / 'a.sqlite'}", folder)
    ok(["db", "upgrade"], env)
    for name, lanes in [("fo", "Front Office"), ("fo2", "Front Office"), ("bo", "Back Office"),
                        ("teknis", "Tim Teknis")]:
        ok(["users", "add", name, "--role", "staff", "--lanes", lanes], env)
    ok(["processes", "deploy", FIXTURES / "linear3.bpmn", FIXTURES / "parallel.bpmn"], env)
    return folder / "a.sqlite"


@pytest.fixture(scope="module")
def case_template(tmp_path_factory, office_template):
    """The office plus one started linear3 case (its first task, isi_formulir, is ready)."""
    folder = tmp_path_factory.mktemp("office_case")
    copy_database(office_template, folder / "a.sqlite")
    view = ok_json(["cases", "start", "linear3"], alur_env(f"sqlite:///{folder / 'a.sqlite'}", folder))
    return folder / "a.sqlite", view


@pytest.fixture
def office(tmp_path, office_template):
    copy_database(office_template, tmp_path / "a.sqlite")
    return alur_env(f"sqlite:///{tmp_path / 'a.sqlite'}", tmp_path)


@pytest.fixture
def started(tmp_path, case_template):
    """(env, view of the started case, id of its ready task)."""
    path, view = case_template
    copy_database(path, tmp_path / "a.sqlite")
    return alur_env(f"sqlite:///{tmp_path / 'a.sqlite'}", tmp_path), view, view["tasks"][0]["id"]


def task_of(view: dict, task_id: int) -> dict:
    return next(t for t in view["tasks"] if t["id"] == task_id)


def _command_paths(command: click.Command, path=()):
    yield list(path)
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _command_paths(sub, (*path, name))


# --- help --------------------------------------------------------------------------------------
def test_group_help_lists_every_command_group(fresh):
    out = ok(["--help"], fresh).stdout
    for group in ("db", "users", "processes", "cases", "tasks", "holidays", "worker", "serve", "demo"):
        assert re.search(rf"^\s+{group}\b", out, re.MULTILINE), group


def test_python_dash_m_web_runs_the_cli(fresh):
    done = run_alur(["--help"], fresh, command=[sys.executable, "-m", "web"])
    assert done.returncode == 0 and "Usage: alur" in done.stdout


def test_installed_alur_entry_point(fresh):
    alur = shutil.which("alur")
    if alur is None:
        pytest.skip("the alur entry point is not installed (pip install -e .)")
    done = run_alur(["cases", "--help"], fresh, command=[alur])
    assert done.returncode == 0 and "Usage: alur cases" in done.stdout


def _all_commands():
    from web.cli import main
    return [" ".join(p) or "(alur)" for p in _command_paths(main)]


@pytest.mark.parametrize("path", _all_commands())
def test_every_command_has_help(path):
    from web.cli import main
    args = [] if path == "(alur)" else path.split()
    result = CliRunner().invoke(main, [*args, "--help"], prog_name="alur")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: alur {' '.join(args)}".rstrip())


def test_the_readme_commands_all_exist():
    listed = set(_all_commands())
    for path in ("db upgrade", "users add", "processes deploy", "processes check", "processes list",
                 "processes show", "cases start", "cases show", "cases list", "cases cancel",
                 "tasks list", "tasks claim", "tasks release", "tasks complete", "holidays add",
                 "worker", "serve", "demo"):
        assert path in listed


# --- db, users ---------------------------------------------------------------------------------
def test_db_upgrade_creates_the_schema_and_can_run_again(fresh, tmp_path):
    assert "newest schema (sqlite)" in ok(["db", "upgrade"], fresh).stdout
    assert (tmp_path / "a.sqlite").exists()
    assert "newest schema" in ok(["db", "upgrade"], fresh).stdout


def test_users_add_with_lanes(office, tmp_path):
    done = ok(["users", "add", "ana", "--role", "staff", "--lanes", "Front Office,Back Office"], office)
    assert "ana" in done.stdout and "staff" in done.stdout
    db = Database(office["ALUR_DATABASE_URL"])
    try:
        with db.read() as s:
            user = s.scalar(select(User).where(User.username == "ana"))
            assert (user.role, sorted(user.lanes)) == ("staff", ["Back Office", "Front Office"])
            assert PASSWORD not in user.password_hash
    finally:
        db.dispose()


def test_duplicate_user_is_a_one_line_error(office):
    err = refused(["users", "add", "fo", "--role", "staff", "--lanes", "Front Office"], office)
    assert len(err.strip().splitlines()) == 1
    assert "fo" in err and "already exists" in err


def test_users_add_refuses_an_unknown_role(office):
    assert "admin" in refused(["users", "add", "ana", "--role", "boss"], office)


def test_users_add_refuses_a_short_password(office):
    env = {**office, "ALUR_PASSWORD": "abc"}
    assert "4 characters" in refused(["users", "add", "ana", "--role", "staff"], env)


# --- processes ---------------------------------------------------------------------------------
def test_deploy_a_folder_deploys_every_file(fresh):
    out = ok(["processes", "deploy", FIXTURES], fresh).stdout
    files = sorted(FIXTURES.glob("*.bpmn"))
    assert len(out.strip().splitlines()) == len(files)
    assert out.count("deployed as version 1") == len(files)
    listed = ok_json(["processes", "list"], fresh)
    assert sorted(p["key"] for p in listed) == sorted(f.stem for f in files)


def test_deploying_the_same_file_again_changes_nothing(office):
    out = ok(["processes", "deploy", FIXTURES / "linear3.bpmn"], office).stdout
    assert "unchanged" in out and "version 1" in out
    linear3 = next(p for p in ok_json(["processes", "list"], office) if p["key"] == "linear3")
    assert linear3["latest_version"] == 1 and len(linear3["versions"]) == 1


def _renamed_linear3(tmp_path) -> Path:
    changed = tmp_path / "linear3-baru.bpmn"
    changed.write_text((FIXTURES / "linear3.bpmn").read_text(encoding="utf-8")
                       .replace('name="Uji linear tiga langkah"', 'name="Uji linear, edisi dua"'),
                       encoding="utf-8")
    return changed


def test_a_changed_file_becomes_version_2(office, tmp_path):
    out = ok(["processes", "deploy", _renamed_linear3(tmp_path), "--note", "ganti nama"], office).stdout
    assert "linear3 deployed as version 2" in out
    linear3 = next(p for p in ok_json(["processes", "list"], office) if p["key"] == "linear3")
    assert linear3["latest_version"] == 2 and linear3["name"] == "Uji linear, edisi dua"
    assert [(v["version"], v["name"], v["note"]) for v in linear3["versions"]] == [
        (1, "Uji linear tiga langkah", None), (2, "Uji linear, edisi dua", "ganti nama")]


def test_processes_list_json_shape(office):
    listed = ok_json(["processes", "list"], office)
    assert [p["key"] for p in listed] == ["linear3", "parallel"]
    for process in listed:
        assert {"key", "name", "latest_version", "versions"} <= set(process)
        assert process["latest_version"] == 1
        [version] = process["versions"]
        assert version["version"] == 1 and version["status"] == "published"
        assert version["filename"] == f"{process['key']}.bpmn" and version["cases"] == 0


def test_processes_show_json(office):
    info = ok_json(["processes", "show", "linear3"], office)
    assert (info["key"], info["version"], info["name"]) == ("linear3", 1, "Uji linear tiga langkah")
    assert info["registration_prefix"] == "LIN" and info["limit_seconds"] == 86400
    assert info["lanes"] == ["Front Office", "Back Office"]
    steps = {s["id"]: s for s in info["steps"]}
    assert [s["id"] for s in info["steps"]] == ["isi_formulir", "verifikasi", "terbitkan"]
    assert (steps["isi_formulir"]["lane"], steps["isi_formulir"]["budget_seconds"]) == ("Front Office", 900)
    assert steps["verifikasi"]["budget_seconds"] == 3600


def test_processes_show_of_an_unknown_version_or_key(office):
    assert "no version 7" in refused(["processes", "show", "linear3", "--version", "7"], office, code=1)
    assert "tidak_ada" in refused(["processes", "show", "tidak_ada"], office, code=1)


def _malformed(tmp_path) -> tuple[Path, str]:
    path = tmp_path / "rusak.bpmn"
    path.write_text('<?xml version="1.0"?>\n'
                    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">\n'
                    '  <bpmn:process id="rusak">\n'
                    '</bpmn:definitions>\n')
    return path, "rusak.bpmn:4"


def _xxe(tmp_path) -> tuple[Path, str]:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-ALUR")
    path = tmp_path / "xxe.bpmn"
    path.write_text('<?xml version="1.0"?>\n'
                    f'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
                    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">\n'
                    '  <bpmn:process id="xxe" name="&xxe;" isExecutable="true"/>\n'
                    '</bpmn:definitions>\n')
    return path, "xxe.bpmn:"


def _outside_lane(tmp_path) -> tuple[Path, str]:
    text = (FIXTURES / "linear3.bpmn").read_text(encoding="utf-8")
    text = text.replace("<bpmn:flowNodeRef>verifikasi</bpmn:flowNodeRef>", "")
    path = tmp_path / "tanpa_lane.bpmn"
    path.write_text(text, encoding="utf-8")
    line = next(n for n, row in enumerate(text.splitlines(), 1) if '<bpmn:userTask id="verifikasi"' in row)
    return path, f"tanpa_lane.bpmn:{line} [verifikasi]"


@pytest.mark.parametrize("make, word", [(_malformed, "well-formed"), (_xxe, "DOCTYPE"),
                                        (_outside_lane, "outside any lane")],
                         ids=["malformed", "xxe", "user-task-outside-lanes"])
def test_deploying_a_bad_file_is_refused_and_stores_nothing(fresh, tmp_path, make, word):
    path, where = make(tmp_path)
    done = run_alur(["processes", "deploy", path], fresh)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert where in done.stderr and word in done.stderr
    assert "TOPSECRET" not in done.stdout + done.stderr
    assert ok_json(["processes", "list"], fresh) == []


def test_processes_check_a_valid_file(fresh):
    result = ok_json(["processes", "check", FIXTURES / "twenty_steps.bpmn"], fresh)
    assert {k: result[k] for k in ("ok", "key", "name", "executable", "errors")} == {
        "ok": True, "key": "twenty_steps", "name": "Uji dua puluh langkah", "executable": True, "errors": []}
    assert result["problems"] == []


def test_processes_check_an_invalid_file_stores_nothing(fresh, tmp_path):
    path, _ = _outside_lane(tmp_path)
    done = run_alur(["processes", "check", path, "--json"], fresh)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    result = json.loads(done.stdout)
    assert result["ok"] is False
    [problem] = result["problems"]
    assert (problem["file"], problem["element_id"], problem["severity"]) == ("tanpa_lane.bpmn", "verifikasi", "error")
    assert isinstance(problem["line"], int)
    assert ok_json(["processes", "list"], fresh) == []


# --- cases -------------------------------------------------------------------------------------
def test_cases_start_json(office):
    years = registration_years()
    first = ok_json(["cases", "start", "linear3"], office)
    years |= registration_years()
    assert {"id", "registration_number", "status", "deadline", "tasks"} <= set(first)
    assert first["registration_number"] in {f"LIN-{y}-000001" for y in years}
    assert (first["status"], first["process"], first["version"]) == ("running", "linear3", 1)
    assert [(t["step_id"], t["state"]) for t in first["tasks"]] == [("isi_formulir", "ready")]
    second = ok_json(["cases", "start", "linear3"], office)
    assert second["registration_number"].endswith("-000002") and second["id"] != first["id"]


def test_cases_start_on_a_named_version(office, tmp_path):
    ok(["processes", "deploy", _renamed_linear3(tmp_path)], office)
    assert ok_json(["cases", "start", "linear3", "--version", "1"], office)["version"] == 1
    latest = ok_json(["cases", "start", "linear3"], office)
    assert (latest["version"], latest["process_name"]) == (2, "Uji linear, edisi dua")


@pytest.mark.parametrize("args, message", [
    (["linear3", "--version", "9"], "no version 9"),
    (["tidak_ada"], "tidak_ada"),
], ids=["unknown-version", "unknown-process"])
def test_cases_start_of_something_unknown(office, args, message):
    assert message in refused(["cases", "start", *args], office, code=1)


@pytest.mark.parametrize("data, message", [
    ("{nama: 1", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('{"bad name": 1}', "bad name"),
], ids=["invalid-json", "not-an-object", "bad-field-name"])
def test_cases_start_with_bad_data(office, data, message):
    err = refused(["cases", "start", "linear3", "--data", data], office, code=1)
    assert message in err and len(err.strip().splitlines()) == 1


def test_cases_list_json(started):
    env, view, _ = started
    newer = ok_json(["cases", "start", "parallel"], env)
    listed = ok_json(["cases", "list"], env)
    assert [c["id"] for c in listed] == [newer["id"], view["id"]]
    for case in listed:
        assert "tasks" not in case
        assert {"id", "registration_number", "status", "sla_state", "deadline", "process"} <= set(case)
    assert listed[1]["registration_number"] == view["registration_number"]


def test_cases_list_filters(started):
    env, view, _ = started
    other = ok_json(["cases", "start", "parallel"], env)
    ok(["cases", "cancel", view["id"]], env)
    assert [c["id"] for c in ok_json(["cases", "list", "--status", "cancelled"], env)] == [view["id"]]
    assert [c["id"] for c in ok_json(["cases", "list", "--status", "running"], env)] == [other["id"]]
    assert [c["id"] for c in ok_json(["cases", "list", "--process", "linear3"], env)] == [view["id"]]
    assert [c["id"] for c in ok_json(["cases", "list", "--limit", "1"], env)] == [other["id"]]


def test_cases_list_refuses_an_unknown_status(started):
    env, _, _ = started
    refused(["cases", "list", "--status", "lost"], env)


def test_cases_show_by_id_and_by_registration_number(started):
    env, view, _ = started
    by_id = ok_json(["cases", "show", view["id"]], env)
    by_number = ok_json(["cases", "show", view["registration_number"].lower()], env)
    assert by_id["id"] == by_number["id"] == view["id"]
    assert by_id["registration_number"] == by_number["registration_number"] == view["registration_number"]
    assert [t["id"] for t in by_id["tasks"]] == [t["id"] for t in view["tasks"]]


@pytest.mark.parametrize("args, message", [
    (["999"], "999"),
    (["LIN-1999-000001"], "LIN-1999-000001"),
    (["1", "--as-of", "kemarin"], "--as-of"),
    (["1", "--as-of", "2001-01-01T00:00+09:00"], "registered at"),
], ids=["unknown-id", "unknown-number", "bad-as-of", "as-of-before-registration"])
def test_cases_show_mistakes(started, args, message):
    env, _, _ = started
    assert message in refused(["cases", "show", *args], env)


def test_cases_cancel(started):
    env, view, _ = started
    assert "cancelled" in ok(["cases", "cancel", view["registration_number"], "--reason", "ditarik"], env).stdout
    shown = ok_json(["cases", "show", view["id"]], env)
    assert (shown["status"], shown["sla_state"]) == ("cancelled", None)
    assert {t["state"] for t in shown["tasks"]} == {"cancelled"}
    assert ok_json(["tasks", "list"], env) == []
    assert "cancelled" in refused(["cases", "cancel", view["id"]], env, code=1)


def test_text_output_without_json(started):
    env, view, _ = started
    assert view["registration_number"] in ok(["cases", "show", view["id"]], env).stdout
    assert view["registration_number"] in ok(["cases", "list"], env).stdout
    assert "Isi formulir permohonan" in ok(["tasks", "list"], env).stdout


# --- tasks -------------------------------------------------------------------------------------
def test_tasks_list_json(started):
    env, view, task_id = started
    [task] = ok_json(["tasks", "list"], env)
    assert {"id", "case_id", "name", "lane", "state"} <= set(task)
    assert (task["id"], task["case_id"], task["name"], task["lane"], task["state"]) == (
        task_id, view["id"], "Isi formulir permohonan", "Front Office", "ready")


def test_tasks_list_by_lane(started):
    env, _, task_id = started
    ok(["cases", "start", "parallel"], env)
    assert [t["id"] for t in ok_json(["tasks", "list", "--lane", "Front Office"], env)] == [task_id]
    back = ok_json(["tasks", "list", "--lane", "Back Office"], env)
    assert [(t["name"], t["lane"]) for t in back] == [("Cek administrasi", "Back Office")]
    assert ok_json(["tasks", "list", "--lane", "Kepala Dinas"], env) == []


def test_claim_and_release(started):
    env, _, task_id = started
    assert "claimed by fo" in ok(["tasks", "claim", task_id, "--user", "fo"], env).stdout
    [task] = ok_json(["tasks", "list"], env)
    assert task["claimed_by"] == "fo" and task["claimed_at"] is not None
    ok(["tasks", "release", task_id, "--user", "fo"], env)
    [task] = ok_json(["tasks", "list"], env)
    assert task["claimed_by"] is None and task["claimed_at"] is None


def test_claim_of_a_claimed_task_is_a_conflict(started):
    env, _, task_id = started
    ok(["tasks", "claim", task_id, "--user", "fo"], env)
    assert "already claimed by fo" in refused(["tasks", "claim", task_id, "--user", "fo2"], env, code=2)
    assert "claimed by fo" in refused(["tasks", "release", task_id, "--user", "fo2"], env, code=1)


def test_claim_by_someone_outside_the_lane(started):
    env, _, task_id = started
    assert "not in lane 'Front Office'" in refused(["tasks", "claim", task_id, "--user", "bo"], env, code=1)


def test_complete_by_someone_outside_the_lane(started):
    env, view, task_id = started
    err = refused(["tasks", "complete", task_id, "--user", "bo", "--data", json.dumps(LINEAR_FORM)], env, code=1)
    assert "not in lane 'Front Office'" in err and len(err.strip().splitlines()) == 1
    assert task_of(ok_json(["cases", "show", view["id"]], env), task_id)["state"] == "ready"


def test_complete_by_an_unknown_user_or_task(started):
    env, _, task_id = started
    assert "hantu" in refused(["tasks", "complete", task_id, "--user", "hantu"], env, code=1)
    assert "999" in refused(["tasks", "complete", "999", "--user", "fo"], env, code=1)


@pytest.mark.parametrize("change, field", [
    ({"nama_pemohon": None}, "nama_pemohon"),
    ({"jumlah_berkas": "banyak"}, "jumlah_berkas"),
    ({"jenis_layanan": "lama"}, "jenis_layanan"),
], ids=["missing-required", "wrong-type", "unknown-choice"])
def test_complete_with_invalid_form_data_changes_nothing(started, change, field):
    env, view, task_id = started
    data = {k: v for k, v in {**LINEAR_FORM, **change}.items() if v is not None}
    err = refused(["tasks", "complete", task_id, "--user", "fo", "--data", json.dumps(data)], env, code=1)
    assert field in err and len(err.strip().splitlines()) == 1
    assert not any(other in err for other in LINEAR_FORM if other != field)
    after = ok_json(["cases", "show", view["id"]], env)
    assert after["revision"] == view["revision"]
    assert [(t["id"], t["state"], t["claimed_by"]) for t in after["tasks"]] == [(task_id, "ready", None)]


def test_complete_with_invalid_json_is_refused(started):
    env, _, task_id = started
    err = refused(["tasks", "complete", task_id, "--user", "fo", "--data", "{'nama': 1}"], env, code=1)
    assert "--data" in err and "JSON" in err and len(err.strip().splitlines()) == 1


def test_complete_moves_the_case_on(started):
    env, view, task_id = started
    after = ok_json(["tasks", "complete", task_id, "--user", "fo", "--data", json.dumps(LINEAR_FORM)], env)
    done = task_of(after, task_id)
    assert (done["state"], done["completed_by"], done["claimed_by"]) == ("completed", "fo", "fo")
    assert done["data"]["jumlah_berkas"] == 3 and after["data"]["nama_pemohon"] == "Yakobus Wenda"
    [(name, lane)] = [(t["name"], t["lane"]) for t in after["tasks"] if t["state"] == "ready"]
    assert (name, lane) == ("Verifikasi berkas", "Back Office")
    assert after["revision"] > view["revision"]


def test_completing_twice_is_a_conflict(started):
    env, _, task_id = started
    ok(["tasks", "complete", task_id, "--user", "fo", "--data", json.dumps(LINEAR_FORM)], env)
    err = refused(["tasks", "complete", task_id, "--user", "fo", "--data", json.dumps(LINEAR_FORM)], env, code=2)
    assert "already completed by fo" in err
    assert [t["id"] for t in ok_json(["tasks", "list", "--state", "completed"], env)] == [task_id]


def test_complete_in_a_cancelled_case_is_refused(started):
    env, view, task_id = started
    ok(["cases", "cancel", view["id"]], env)
    refused(["tasks", "complete", task_id, "--user", "fo", "--data", json.dumps(LINEAR_FORM)], env, code=1)
