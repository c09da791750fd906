import subprocess
import sys

HEAVY = ("torch", "transformers", "datasets", "ray", "matplotlib", "pylint", "numpy")


def test_light_commands_import_nothing_heavy():
    code = (
        "import sys, lintseq, lintseq.cli, lintseq.generate, lintseq.generate.verify, lintseq.generate.show, lintseq.generate.engines,"
        " lintseq.evaluate.pipeline, lintseq.evaluate.sandbox, lintseq.data.corpus, lintseq.sample, lintseq.resolve,"
        " lintseq.experiment, lintseq.jsonl, lintseq.hub;"
        "lintseq.cli.build_parser();"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
