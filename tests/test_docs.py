"""The README and the user docs stay true: every `n2n` command in them parses with the real argument
parser, every relative link points at a file, and no page tells how the work was organised."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from noise2noise.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
USER_DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def commands(page: Path) -> list[str]:
    """The ``n2n ...`` lines of the page's ```bash blocks (continuation lines joined, comments cut)."""
    out, block, text = [], False, page.read_text()
    lines = text.replace("\\\n", " ").splitlines()
    for line in lines:
        if line.startswith("```"):
            block = line.strip() == "```bash" and not block
            continue
        line = line.strip()
        if block and line.startswith("n2n "):
            out.append(re.split(r"\s+#\s", line, maxsplit=1)[0])
    return out


def test_the_readme_has_commands_to_check():
    assert len(commands(ROOT / "README.md")) >= 12


@pytest.mark.parametrize("page", USER_DOCS, ids=lambda p: p.name)
def test_every_n2n_command_parses(page):
    parser = build_parser()
    for line in commands(page):
        try:
            parser.parse_args(shlex.split(line)[1:])
        except SystemExit as e:
            pytest.fail(f"{page.name}: `{line}` does not parse (exit {e.code})")


@pytest.mark.parametrize("page", [*USER_DOCS, *sorted((ROOT / "docs" / "lab").glob("*.md"))], ids=lambda p: p.name)
def test_relative_links_point_at_files(page):
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
        if "://" not in target:
            assert (page.parent / target).exists(), f"{page.name}: broken link {target}"


HISTORY = re.compile(r"\bsessions? ?\d|\bsession's\b|\bissue \d|the issue's|work period|borrowed|\blent\b", re.I)


def test_no_page_tells_how_the_work_was_organised():
    pages = [*USER_DOCS, *(ROOT / "docs" / "lab").glob("*.md"), ROOT / "benchmarks" / "README.md"]
    code = [*(ROOT / "src").rglob("*.py"), *(ROOT / "src").rglob("*.json"), *(ROOT / "benchmarks").glob("*.py")]
    code += [p for p in (ROOT / "docs" / "results").iterdir() if p.suffix in (".json", ".jsonl", ".md", ".csv", ".log")]
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in pages + code for m in HISTORY.finditer(p.read_text())]
    assert not found, found


def test_no_absolute_path_of_a_machine_in_a_shipped_or_recorded_file():
    files = [*(ROOT / "src").rglob("*.json"), *(ROOT / "docs" / "results").iterdir()]
    found = [str(p.relative_to(ROOT)) for p in files if re.search(r'"/(tmp|work|root|home|opt|usr)/', p.read_text())]
    assert not found, found
