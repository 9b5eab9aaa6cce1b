"""Workflows kept in memory between operations: used only at the revision they were saved at."""
import pytest

from conftest import add_staff, fixture_bytes
from workflow_engine import Database, Engine, FormError, Settings
from workflow_engine.models import Case

FORM = {"nama_pemohon": "Yakobus Wenda", "jumlah_berkas": 3, "jenis_layanan": "baru", "pernyataan_benar": True,
        "tanggal_permohonan": "2026-11-30"}
LATER = {"nomor_dokumen": "503/123/DPMPTSP/2026"}


@pytest.fixture
def counted(engine, deploy):
    """The engine with a count of the stored states it deserialized."""
    add_staff(engine, "fo", ["Front Office", "Back Office"])
    deploy("linear3.bpmn")
    loads = []
    original = engine.codec.load_state

    def load_state(*args, **kwargs):
        loads.append(1)
        return original(*args, **kwargs)
    engine.codec.load_state = load_state
    return engine, loads


def _ready(engine, case_id):
    [task] = engine.tasks(case_id=case_id)
    return task


def _values(task):
    return FORM if task["step_id"] == "isi_formulir" else LATER


def test_the_next_operation_on_a_case_starts_from_the_saved_workflow(counted):
    engine, loads = counted
    case_id = engine.start_case("linear3")
    for _ in range(2):
        task = _ready(engine, case_id)
        engine.complete(task["id"], user="fo", data=_values(task))
    assert loads == []


def test_a_change_by_another_process_is_read_from_the_database(counted, settings, clock):
    engine, loads = counted
    case_id = engine.start_case("linear3")
    other_db = Database(settings.database_url)
    other = Engine(other_db, clock, settings)
    try:
        first = _ready(engine, case_id)
        other.complete(first["id"], user="fo", data=FORM)  # the revision moves past the cached one
        second = _ready(engine, case_id)
        assert second["step_id"] != first["step_id"]
        engine.complete(second["id"], user="fo", data=_values(second))
    finally:
        other_db.dispose()
    assert loads == [1]
    steps = [t["step_id"] for t in engine.case(case_id)["tasks"] if t["state"] == "completed"]
    assert steps == [first["step_id"], second["step_id"]]


def test_a_refused_operation_leaves_nothing_half_done_in_memory(counted):
    engine, loads = counted
    case_id = engine.start_case("linear3")
    task = _ready(engine, case_id)
    with pytest.raises(FormError):
        engine.complete(task["id"], user="fo", data={"nama_pemohon": ""})
    engine.complete(task["id"], user="fo", data=FORM)
    assert loads == [1], "the refused completion's workflow was dropped, not reused"
    with engine.db.read() as s:
        assert s.get(Case, case_id).data["nama_pemohon"] == "Yakobus Wenda"


def test_the_cache_can_be_turned_off(database_url, clock):
    db = Database(database_url)
    engine = Engine(db, clock, Settings(database_url=database_url, workflow_cache_size=0))
    try:
        add_staff(engine, "fo", ["Front Office", "Back Office"])
        engine.deploy(fixture_bytes("linear3.bpmn"), "linear3.bpmn")
        loads = []
        original = engine.codec.load_state
        engine.codec.load_state = lambda *a, **k: loads.append(1) or original(*a, **k)
        case_id = engine.start_case("linear3")
        task = _ready(engine, case_id)
        engine.complete(task["id"], user="fo", data=FORM)
        assert loads == [1]
    finally:
        db.dispose()


def test_the_cache_size_comes_from_the_environment():
    assert Settings.from_env({"ALUR_WORKFLOW_CACHE_SIZE": "0"}).workflow_cache_size == 0
    assert Settings.from_env({}).workflow_cache_size == 64
