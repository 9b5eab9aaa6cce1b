"""The engine must stay free of the web layer: it is used by the CLI, the web app and workers alike."""
import ast
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parent.parent / "workflow_engine"
FORBIDDEN = ("flask", "web", "werkzeug", "jinja2", "click")


def _imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def test_engine_sources_do_not_import_the_web_layer():
    offenders = [f"{path.name}:{line} imports {name}"
                 for path in sorted(ENGINE.rglob("*.py"))
                 for line, name in _imports(path)
                 if name.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_the_engine_loads_no_web_module():
    code = ("import sys, workflow_engine, workflow_engine.engine; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'web', 'werkzeug')]; "
            "print(','.join(bad)); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_checker_sees_a_forbidden_import(tmp_path):
    sample = tmp_path / "bad.py"
    sample.write_text("import os\nfrom flask import Flask\n")
    assert [name for _, name in _imports(sample)] == ["os", "flask"]
