"""The SOP library as a whole: every folder's versions are versions of one SOP, comparable and complete."""
from pathlib import Path

import pytest

from conftest import PROCESSES
from sop_paths import deploy_versions, office_users

FOLDERS = sorted(p for p in PROCESSES.iterdir() if p.is_dir())
IDENTITY = {"nomor", "dasarHukum", "kualifikasiPelaksana", "keterkaitan", "peralatan", "peringatan",
            "pencatatan", "disahkanOleh", "kodeRegistrasi"}


def test_the_library_has_five_sops_with_two_versions_each():
    assert len(FOLDERS) >= 5
    for folder in FOLDERS:
        assert {"v1.bpmn", "v2.bpmn"} <= {p.name for p in folder.glob("*.bpmn")}, folder.name
        assert (folder / "README.md").exists(), folder.name


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_versions_deploy_in_order_as_one_sop(engine, folder: Path):
    office_users(engine)
    results = deploy_versions(engine, folder)
    assert {r.key for r in results} == {results[0].key}
    assert [r.version for r in results] == list(range(1, len(results) + 1))
    assert all(r.created and not r.warnings for r in results)
    infos = [engine.process_info(results[0].key, r.version) for r in results]
    first, last = infos[0], infos[-1]
    # The same SOP, counted the same way, so the versions compare fairly.
    for field in ("name", "registration_prefix", "limit_seconds", "calendar"):
        assert first[field] == last[field], field
    assert first["limit_seconds"] == 24 * 3600
    for info in infos:
        assert IDENTITY <= info["identity"].keys()
        assert all(s["documentation"] and s["budget_seconds"] and s["lane"]
                   for s in info["steps"] if s["kind"] == "userTask")
    assert first["identity"]["nomor"] != last["identity"]["nomor"]
    # A running case stays on its version; new cases take the newest.
    engine.set_version_status(results[0].key, len(results), "retired")
    old_case = engine.start_case(results[0].key)
    engine.set_version_status(results[0].key, len(results), "published")
    assert engine.case(old_case)["version"] == len(results) - 1
    assert engine.case(engine.start_case(results[0].key))["version"] == len(results)
