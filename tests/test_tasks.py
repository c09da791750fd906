"""tasks/: one module per benchmark behind the registry the CLI, evaluate and decontamination read."""

import importlib
import pkgutil

import pytest

import lintseq.tasks as tasks
from lintseq.errors import LintseqError
from lintseq.tasks import BENCHMARKS, REGISTRY, load_benchmark


def test_every_module_in_the_package_is_registered_once_in_order():
    modules = [m.name for m in pkgutil.iter_modules(tasks.__path__) if m.name != "base"]
    listed = [b.name for m in modules for b in importlib.import_module(f"lintseq.tasks.{m}").BENCHMARKS]
    assert sorted(listed) == sorted(BENCHMARKS) and len(set(listed)) == len(listed)
    assert BENCHMARKS[:2] == ("humaneval", "mbpp") and len({b.order for b in REGISTRY.values()}) == len(REGISTRY)
    assert all(b.decontaminate in ("always", "if_local", "never") for b in REGISTRY.values())


def test_the_cli_offers_exactly_the_registered_benchmarks():
    import argparse

    from lintseq.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for command in ("evaluate", "prompts", "resolve"):
        bench = next(a for a in sub.choices[command]._actions if "--benchmark" in a.option_strings)
        assert tuple(bench.choices) == BENCHMARKS, command


def test_a_task_set_only_where_the_benchmark_has_one():
    with pytest.raises(LintseqError, match="does not apply to humaneval"):
        load_benchmark("humaneval", protocol="authors")
    with pytest.raises(ValueError, match="unknown benchmark 'humaneval-x'"):
        load_benchmark("humaneval-x")


def test_humaneval_needs_no_data_folder_and_carries_its_judge():
    task = load_benchmark("humaneval")["HumanEval/0"]
    assert task.test["kind"] == "check" and task.test["entry_point"] == "has_close_elements"
    assert task.reference.startswith(task.code_prompt) and task.completion_prompt == task.code_prompt


def test_decontamination_indexes_every_always_benchmark_without_a_data_folder_only_humaneval():
    from lintseq.data.decontam import benchmark_index

    index, ids = benchmark_index(None, embedded_only=True)
    he = load_benchmark("humaneval")["HumanEval/0"]
    assert index.hits(he.code_prompt) and index.hits(he.reference) and ids == {"mbppplus": set(), "mbpp-sanitized": set()}
    assert not index.hits("completely unrelated words about gardening and the weather in the spring time here")


def test_mbpp_instructions_name_the_function_the_tests_call(data):
    """MBPP references often define helpers first (Mbpp/18: ``str_to_list`` before
    ``remove_dirty_chars``); the instruction names the tested function, in all 500 and 257."""
    import re

    for name, count in (("mbpp", 500), ("mbpp-sanitized", 257)):
        tasks = load_benchmark(name, data)
        assert len(tasks) == count
        for tid, task in tasks.items():
            named = re.search(r"[Ff]unction:? `(\w+)\(", task.instruction).group(1)
            assert re.search(rf"\b{named}\(", "\n".join(task.test["asserts"])), (tid, named)
    assert "`remove_dirty_chars(" in load_benchmark("mbpp", data)["Mbpp/18"].instruction
