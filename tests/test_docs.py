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


PAGES = {path.relative_to(KIT_ROOT).as_posix(): path.read_text(encoding="utf-8")
         for path in [KIT_ROOT / "README.md", KIT_ROOT / "exercises" / "README.md", *sorted((KIT_ROOT / "docs").glob("*.md"))]}
# Words that narrate rounds of work rather than say what is: a page says what the kit does and measures now.
NARRATION = re.compile(r"(?i:\bissue #?\d+|\bstop \d+\b|\bfixed since\b|\bbefore issue\b|\bthe rule of [0-9a-f]{7}\b"
                       r"|\bused to (?:wait|take|fail|pass|be)\b)|\b[Mm]achine [A-Z]\b")


def test_no_file_narrates_rounds_of_work():
    """Pages and code say what the kit does now; the history is in git and in benchmarks/results-*.txt."""
    assert NARRATION.search("as measured before " + "issue 33 on " + "machine B")
    files = {name: (KIT_ROOT / name).read_text(encoding="utf-8", errors="replace") for name in _kit_files()
             if not name.startswith(("benchmarks/results-", "tests/test_docs.py"))}
    found = [f"{name}: {match.group(0)!r}" for name, text in {**PAGES, **files}.items()
             for match in NARRATION.finditer(text)]
    assert len(files) > 100
    assert found == [], found


def _kit_files() -> list[str]:
    skip = {".git", ".venv", "node_modules", "__pycache__"}
    return [p.relative_to(KIT_ROOT).as_posix() for p in KIT_ROOT.rglob("*.py")
            if not skip.intersection(p.relative_to(KIT_ROOT).parts) and "egg-info" not in str(p)]


def test_every_python_file_a_page_names_exists():
    """A module moved or renamed leaves no page pointing at where it used to be."""
    files = _kit_files()
    names = {path.rsplit("/", 1)[-1] for path in files}
    missing = []
    for name, text in PAGES.items():
        for token in set(re.findall(r"(?<![\w./<>-])((?:[\w-]+/)*[\w-]+\.py)\b", text)):
            if "exNN" in token or "test_exNN" in token or token in ("file.py", "setup.py", "autograder.py"):
                continue  # placeholders for a student's file, and the name Classroom 50 runs its script by
            found = any(f == token or f.endswith("/" + token) for f in files) if "/" in token else token in names
            if not found:
                missing.append(f"{name}: {token}")
    assert "graders/mpgrade/grading/plugin.py" in files
    assert sorted(missing) == [], sorted(missing)


def test_the_readme_stays_a_page_for_users():
    """Depth goes to docs/: the README holds what a user needs, at most ~30 KB."""
    assert len(README.encode("utf-8")) <= 30 * 1024, f"README.md is {len(README.encode('utf-8'))} bytes: move depth to docs/"
    for page in ("how-it-works.md", "threat-model.md", "performance.md", "platforms.md"):
        assert f"docs/{page}" in README, page
