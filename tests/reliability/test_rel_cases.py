"""Every case of the reliability bar (reliability.md §4: 86 cases) is a test in this folder,
named ``test_<ID>_...``, or a documented "not applicable" line in docs/guarantees.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

HERE = Path(__file__).parent
GUARANTEES = HERE.parents[1] / "docs" / "guarantees.md"
GROUPS = {"H": 15, "S": 13, "J": 11, "T": 7, "N": 7, "P": 7, "L": 3, "X": 6, "V": 5, "C": 6,
          "R": 6}  # fmt: skip
CASES = [f"{group}{n}" for group, count in GROUPS.items() for n in range(1, count + 1)]


def case_tests() -> set[str]:
    found: set[str] = set()
    for path in HERE.glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                match = re.match(r"test_([A-Z]\d+)_", node.name)
                if match:
                    found.add(match.group(1))
    return found


def not_applicable() -> set[str]:
    text = GUARANTEES.read_text(encoding="utf-8")
    section = text.split("### Not applicable to llmx", 1)[1].split("\n### ", 1)[0]
    return {m.group(1) for m in re.finditer(r"^- \*\*([A-Z]\d+)\*\* \(", section, re.M)}


def test_all_86_cases_are_covered() -> None:
    assert len(CASES) == 86
    missing = set(CASES) - case_tests() - not_applicable()
    assert not missing, f"cases neither tested nor documented as not applicable: {missing}"
    assert not (case_tests() - set(CASES)), "a test names a case that does not exist"


def test_the_docs_list_what_is_not_applicable() -> None:
    assert not_applicable() == {"X5"}
    assert not (not_applicable() & case_tests())
