"""What the READMEs say of defaults is what settings.py has: a page that names a default the code does not have fails."""
from __future__ import annotations

import re

from mpgrade.settings import DEFAULT_CALL_TIMEOUT_S, KIT_ROOT, SETTINGS, START_METHODS, platform_start_method

README = (KIT_ROOT / "README.md").read_text(encoding="utf-8")
EXERCISES_README = (KIT_ROOT / "exercises" / "README.md").read_text(encoding="utf-8")


def _settings_rows() -> dict[str, list[str]]:
    """The README's Settings table: option (its first word) -> its cells."""
    section = README[README.index("## Settings"):]
    rows = {}
    for line in section.splitlines()[1:]:
        if line.startswith("## "):
            break
        if line.startswith("| `--"):
            cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]]
            rows[cells[0].strip("`").split()[0].rstrip("`")] = cells
    return rows


def _words(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`|(\d+(?:\.\d+)?)", cell)


def test_every_setting_has_a_row_with_its_names_and_its_default():
    rows = _settings_rows()
    for setting in SETTINGS:
        assert setting.option in rows, f"README's Settings table lacks {setting.option}"
        option, env, ini, default = rows[setting.option]
        assert env == f"`{setting.env}`", (setting.option, env)
        assert ini == f"`mpgrade_{setting.name}`", (setting.option, ini)
        value = setting.default()
        if setting.name == "start_method":
            said = [w for w, _ in _words(default) if w in START_METHODS]
            assert said == [platform_start_method("linux"), platform_start_method("darwin")], default
        elif isinstance(value, bool):
            assert f"`{'yes' if value else 'no'}`" in default, (setting.option, default)
        elif isinstance(value, (int, float)):
            first = next(number for _, number in _words(default) if number)
            assert float(first) == float(value), (setting.option, default, value)
        elif isinstance(value, str):
            assert default.startswith(f"`{value}`"), (setting.option, default, value)
    assert len(rows) == len(SETTINGS), sorted(set(rows) - {s.option for s in SETTINGS})


def test_both_readmes_name_the_start_methods_the_code_defaults_to():
    defaults = [platform_start_method("linux"), platform_start_method("darwin")]
    for text in (EXERCISES_README, README[README.index("## For students"):README.index("## Instructors")]):
        bold = [m for m in re.findall(r"\*\*(\w+)\*\*", text) if m in START_METHODS]
        assert bold == defaults, bold


def test_the_time_limit_a_readme_names_is_the_code_s():
    for text in (README, EXERCISES_README):
        for said in re.findall(r"\((\d+) s a call|default (\d+) s\)", text):
            assert float(next(s for s in said if s)) == DEFAULT_CALL_TIMEOUT_S, said
    assert f"{DEFAULT_CALL_TIMEOUT_S:g} s a call" in EXERCISES_README
