"""Alur's structural diff agrees with bpmn-js-differ (vendored, run in chromium) on many pairs of files.

The pairs: v1/v2 of every SOP in processes/, the small fixtures in tests/fixtures/bpmn/diff, and
pairs of MIWG reference models (ALUR_MIWG_DIR or ../shared/corpus/miwg-reference; read in place).
Verdicts are compared per category on the element kinds bpmn-js-differ tracks (flow elements,
sequence and message flows, participants, lanes; a process without a pool). bpmn-js-differ's
answer is first put in Alur's terms, as workflow_engine/bpmn_diff.py documents:
- an added or removed container stands for everything in it (bpmn-js-differ names only the container);
- a process's own changes are reported on its pool there, on the process here;
- a step that only moved to another lane is "changed: lane" here and at most "layout changed" there
  (bpmn-js-differ does not read lane membership), so it counts as layout-changed when its shape moved;
- layout_changed here holds only elements with no other change; there it may hold changed ones too;
- shapes are matched by the element they draw here, by their own id there, so a moved shape whose
  own id changed too is layout-changed here and unseen there;
- a whole process that no pool shows, in a file with pools (a called process), is added or removed
  here with all it holds; bpmn-js-differ does not track such a process and says nothing (it looks
  for pools in the first collaboration only).
"""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from workflow_engine.bpmn_diff import DI_NS, DIFFER_TRACKED, diff_bpmn, parse_document
from workflow_engine.bpmn_xml import xpath

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "web" / "static" / "vendor" / "bpmn-js-differ" / "bpmn-js-differ.bundle.min.js"
DIFF_FIXTURES = ROOT / "tests" / "fixtures" / "diff"
from corpus import MIWG  # noqa: E402


def library_pairs() -> list[tuple[Path, Path]]:
    return [(folder / "v1.bpmn", folder / "v2.bpmn") for folder in sorted((ROOT / "processes").iterdir())
            if (folder / "v2.bpmn").exists()]


def fixture_pairs() -> list[tuple[Path, Path]]:
    base = DIFF_FIXTURES / "base.bpmn"
    others = sorted(p for p in DIFF_FIXTURES.glob("*.bpmn") if p != base)
    return [(base, p) for p in others] + [(p, base) for p in others]


def miwg_pairs() -> list[tuple[Path, Path]]:
    """Every ordered pair within each MIWG group (A, B, C), and each model against itself."""
    files = sorted(MIWG.glob("*.bpmn"))
    pairs = [(f, f) for f in files]
    for group in "ABC":
        members = [f for f in files if f.name.startswith(group)]
        pairs += list(itertools.permutations(members, 2))
    return pairs


@pytest.fixture(scope="module")
def differ(browser):
    """A function running bpmn-js-differ in chromium on two files' text."""
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<!doctype html><title>differ</title>")
    page.add_script_tag(path=str(BUNDLE))

    def run(a: Path, b: Path) -> dict:
        return page.evaluate(
            """async ([a, b]) => BpmnJsDiffer.diff(await BpmnJsDiffer.parse(a), await BpmnJsDiffer.parse(b))""",
            [a.read_text(encoding="utf-8"), b.read_text(encoding="utf-8")])
    yield run
    context.close()


def _pools(content: bytes) -> tuple[dict[str, str], set[str]]:
    """(process id -> id of the pool that shows it, processes bpmn-js-differ does not track).

    bpmn-js-differ looks for a process's pool in the file's first collaboration only.
    """
    root = parse_document(content, "pools")
    pools = {p.get("processRef"): p.get("id") for p in xpath(root, ".//bpmn:participant") if p.get("processRef")}
    first = xpath(root, "./bpmn:collaboration")[:1]
    shown = {p.get("processRef") for c in first for p in xpath(c, "./bpmn:participant")}
    hidden = {p.get("id") for p in xpath(root, "./bpmn:process")} - shown if first else set()
    return pools, hidden


def _di_ids(content: bytes) -> dict[str, set[str]]:
    """element id -> ids of the BPMNShape/BPMNEdge elements that draw it."""
    root = parse_document(content, "di")
    found: dict[str, set[str]] = {}
    for di in root.iter(f"{{{DI_NS}}}BPMNShape", f"{{{DI_NS}}}BPMNEdge"):
        found.setdefault(di.get("bpmnElement"), set()).add(di.get("id"))
    return found


def verdicts_to_compare(a: Path, b: Path, theirs: dict) -> dict[str, tuple[set, set]]:
    """Per category: (Alur's ids, bpmn-js-differ's ids put in Alur's terms), on tracked kinds only."""
    ours = diff_bpmn(a.read_bytes(), b.read_bytes(), old_name=a.name, new_name=b.name)
    (pools_a, hidden_a), (pools_b, hidden_b) = _pools(a.read_bytes()), _pools(b.read_bytes())

    def inside(side: dict, pools: dict, top: str) -> set:
        roots = {top} | {process for process, pool in pools.items() if pool == top}
        found = set()
        for element in side.values():
            current, steps = element.id, 0
            while current is not None and steps < 200:
                if current in roots:
                    found.add(element.id)
                    break
                current = side[current].parent if current in side else None
                steps += 1
        return found | {top}

    their_added = set(theirs["added"]) | (hidden_b & set(ours.added))
    their_removed = set(theirs["removed"]) | (hidden_a & set(ours.removed))
    added = set().union(set(), *(inside(ours.new, pools_b, i) for i in their_added))
    removed = set().union(set(), *(inside(ours.old, pools_a, i) for i in their_removed))
    their_changed = set(theirs["changed"])
    their_layout = set(theirs["layoutChanged"]) - their_changed - added - removed

    our_changed = set()
    for element_id, attrs in ours.changed.items():
        if set(attrs) - {"lane"}:
            our_changed.add(pools_b.get(element_id, element_id))
    our_layout = set(ours.di_changed) - our_changed - set(ours.added) - set(ours.removed)
    # bpmn-js-differ matches shapes by the shape's own id: a redrawn shape with a new id is unseen there.
    di_a, di_b = _di_ids(a.read_bytes()), _di_ids(b.read_bytes())
    their_layout |= {i for i in our_layout if di_a.get(i) != di_b.get(i)}

    def kind(element_id):
        element = ours.element(element_id)
        return element.kind if element is not None else None

    def tracked(ids: set) -> set:
        return {i for i in ids if kind(i) in DIFFER_TRACKED
                and not {i} & (set(pools_a) | set(pools_b) | hidden_a | hidden_b)}

    return {"added": (tracked(set(ours.added)), tracked(added)),
            "removed": (tracked(set(ours.removed)), tracked(removed)),
            "changed": (tracked(our_changed), tracked(their_changed)),
            "layout_changed": (tracked(our_layout), tracked(their_layout))}


def disagreements(a: Path, b: Path, theirs: dict) -> dict:
    found = {}
    for category, (ours, their) in verdicts_to_compare(a, b, theirs).items():
        if ours != their:
            found[category] = {"alur_only": sorted(ours - their), "differ_only": sorted(their - ours)}
    return found


def check_pairs(differ, pairs):
    failures = []
    for a, b in pairs:
        found = disagreements(a, b, differ(a, b))
        if found:
            failures.append(f"{a.name} -> {b.name}: {found}")
    assert not failures, f"{len(failures)} of {len(pairs)} pairs disagree:\n" + "\n".join(failures)


def test_the_bundle_is_vendored():
    text = BUNDLE.read_text(encoding="utf-8")
    assert "BpmnJsDiffer" in text and len(text) > 50_000


def test_sop_library_versions_agree(differ):
    pairs = library_pairs()
    assert len(pairs) >= 5
    check_pairs(differ, pairs)


def test_library_pairs_are_not_trivial(differ):
    """The SOP pairs have something in every category, so agreement there means something."""
    seen = {"added": 0, "removed": 0, "changed": 0, "layout_changed": 0}
    for a, b in library_pairs():
        for category, (ours, _theirs) in verdicts_to_compare(a, b, differ(a, b)).items():
            seen[category] += len(ours)
    assert all(seen.values()), seen


def test_fixture_pairs_agree(differ):
    pairs = fixture_pairs()
    assert len(pairs) >= 12
    check_pairs(differ, pairs)


@pytest.mark.skipif(not MIWG.is_dir(), reason=f"no MIWG reference models at {MIWG} (set ALUR_MIWG_DIR)")
def test_miwg_pairs_agree(differ):
    pairs = miwg_pairs()
    assert len(pairs) > 100
    check_pairs(differ, pairs)


def test_a_disagreement_is_seen(differ):
    """The comparison can fail: bpmn-js-differ's answer with one verdict dropped disagrees."""
    a, b = library_pairs()[0]
    theirs = differ(a, b)
    theirs["changed"].pop(sorted(theirs["changed"])[0])
    assert "changed" in disagreements(a, b, theirs)
