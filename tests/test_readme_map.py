"""The README's file map names every module of the package and every benchmark script, so the map
matches the tree (a new file without a row fails here)."""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _file_map() -> str:
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    return text[text.index("| file | role |"): text.index("## Contributing")]


def test_every_module_and_benchmark_script_has_a_row():
    rows = _file_map()
    missing = []
    for top in ("src/lintseq", "benchmarks"):
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith((".py", ".sh")) and name != "__init__.py" and f"{name}`" not in rows:
                    missing.append(os.path.relpath(os.path.join(folder, name), ROOT))
    assert not missing, f"README file map lacks: {missing}"
