"""docs/providers.md matches the code, and examples/swap_providers.py runs one program on five
providers, changing only the config."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from capabilities import (
    BEGIN,
    DOC,
    END,
    ROOT,
    SETTINGS,
    generated,
    setting_outcome,
    settings_table,
    updated,
)
from scenarios import names


def test_docs_providers_md_is_generated_from_the_code() -> None:
    current = DOC.read_text(encoding="utf-8")
    assert current.count(BEGIN) == 1 and current.count(END) == 1
    assert updated(current) == current, (
        "docs/providers.md is out of date: run python tests/contract/capabilities.py"
    )


def test_the_table_lists_every_provider_and_setting() -> None:
    table = generated()
    for name in names():
        assert table.count(f"| `{name}` |") == 3, name  # providers, settings, decoding
    for setting in SETTINGS:
        assert f"`{setting.key}`" in table
    dropped = [
        (n, s.key) for n in names() for s in SETTINGS if setting_outcome(n, s.key) == "dropped"
    ]
    assert "\n".join(settings_table()).count("‼") == len(dropped)


def test_swap_providers_runs_one_program_on_five_providers() -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_API_KEY", "_BASE_URL")) and not k.startswith("LLMX_")
    }
    env["PYTHONIOENCODING"] = "utf-8"
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "swap_providers.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [
        "groq",
        "openai",
        "anthropic",
        "gemini",
        "ollama",
    ]
    for line in lines:
        assert "(emulator, " in line and "get_weather tool returned" in line and "21" in line, line


def test_the_emulator_snippet_of_the_page_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    snippet = next(block for block in blocks if "Emulator" in block)
    done = subprocess.run(
        [sys.executable, "-c", snippet], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "get_weather" in done.stdout and "Paris" in done.stdout
