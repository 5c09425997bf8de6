"""The README names code that exists: every module, file and `module.name` in its code map and in
"Where things are decided" resolves, so a move or a rename shows up here, not in a reader's hands."""

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def architecture_tables() -> str:
    start = README.index("Code map")
    decided = README.index("### Where things are decided")
    end = README.find("\n## ", decided)
    return README[start : end if end > 0 else None]


NAMES = re.findall(r"`([^`]+)`", architecture_tables())
PATHS = sorted({n for n in NAMES if re.fullmatch(r"[\w./]+\.py|[\w]+/", n)})


def module_for(name: str):
    for package in ("uploads", "project"):
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError:
            continue
    return None


# `module.attribute` or `module.function()` where module is one of uploads/ or project/ (not
# `files.js`, `upload.file.url` and the like).
DOTTED = sorted(
    {
        m.group(1, 2)
        for n in NAMES
        if not n.endswith(".py")
        and (m := re.fullmatch(r"(\w+)\.(\w+)(?:\(.*\))?", n))
        and module_for(m.group(1)) is not None
    }
)


@pytest.mark.parametrize("path", PATHS)
def test_each_file_the_readme_names_exists(path):
    # A bare name in the code map's uploads row (`schemas.py`) lives in uploads/.
    assert (ROOT / path).exists() or (ROOT / "uploads" / path).exists(), f"README names {path}"


@pytest.mark.parametrize(("module", "attribute"), DOTTED)
def test_each_module_attribute_the_readme_names_exists(module, attribute):
    assert hasattr(module_for(module), attribute), f"README names {module}.{attribute}, which does not exist"


def test_the_tables_name_some_code():
    assert len(PATHS) > 10
    assert len(DOTTED) > 5


def test_no_script_of_ours_in_static_uploads_is_over_350_lines():
    # Vendored scripts live in static/vendor/: every one here is ours.
    long = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "static" / "uploads").glob("*.js")
        if len(path.read_text().splitlines()) > 350
    ]

    assert long == []


def test_no_module_in_uploads_is_over_350_lines():
    long = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "uploads").rglob("*.py")
        if "migrations" not in path.parts and len(path.read_text().splitlines()) > 350
    ]

    assert long == []
