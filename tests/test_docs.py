"""The docs are part of the interface: every command line they show is accepted by the real
parser, and every relative link leads to a page (and heading) that exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from connector.cli import build_parser
from tests.docs.commands import ShownCommand, argv_of, rejection, shown_commands

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _shown() -> list[ShownCommand]:
    return [command for page in PAGES for command in shown_commands(page)]


def test_the_docs_exist_and_show_commands() -> None:
    assert (REPO / "docs").is_dir() and len(PAGES) > 5
    commands = _shown()
    assert len(commands) > 40
    shown_subcommands = {argv_of(c, build_parser())[0] for c in commands if argv_of(c, build_parser())}
    assert {"normalize", "backfill", "forward", "deploy", "replay-dlq", "content", "demo"} <= shown_subcommands


def test_every_command_line_in_the_docs_is_accepted_by_the_parser() -> None:
    parser = build_parser()
    refused = [why for command in _shown() if (why := rejection(command, parser))]
    assert not refused, "commands in the docs that the CLI rejects:\n" + "\n".join(refused)


@pytest.mark.parametrize("doc, expected", [
    ("```sh\naws-siem-connector content sigma --backend lucene A.yml B.yml\n```", None),
    ("```sh\naws-siem-connector normalize --no-such-flag PATH\n```", "unrecognized arguments: --no-such-flag"),
    ("Run `aws-siem-connector content --backend splunk` to ...", "required: KIND"),
    ("| `aws-siem-connector deploy splunk\\|opensearch` | ... |", "invalid choice: 'splunk'"),
    ("```sh\nexport X=1 && aws-siem-connector backfill --workers many \\\n  --source DIR\n```", "invalid int value"),
])
def test_the_check_itself_catches_a_broken_command_line(doc: str, expected: str | None, tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(doc)
    (command,) = shown_commands(page)
    why = rejection(command, build_parser())
    if expected is None:
        assert why is None
    else:
        assert why is not None and expected in why, why


def test_synopses_become_concrete_command_lines() -> None:
    parser = build_parser()
    page = Path("synopsis.md")
    text = ("| `aws-siem-connector backfill --bucket B [--prefix P] --start YYYY-MM-DD --end YYYY-MM-DD "
            "[--account ...] [--type vpcflow\\|cloudtrail] [--workers N] [--role-arn ARN [--external-id ID]] "
            "--sink file\\|splunk [--out DIR]` |\n"
            "`aws-siem-connector deploy elasticsearch|opensearch [--es-url URL|--opensearch-url URL]`")
    first, second = shown_commands(page, text)
    assert argv_of(first, parser) == [
        "backfill", "--bucket", "sample", "--prefix", "sample", "--start", "sample", "--end", "sample",
        "--account", "sample", "--type", "vpcflow", "--workers", "2", "--role-arn", "sample", "--external-id",
        "sample", "--sink", "file", "--out", "sample"]
    assert argv_of(second, parser) == ["deploy", "elasticsearch", "--es-url", "sample"]


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    anchors = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            anchors.add(re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", title)))
    return anchors


def test_every_relative_link_resolves() -> None:
    broken = []
    for page in PAGES:
        for target in _LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+:", target):
                continue
            file_part, _, anchor = target.partition("#")
            resolved = (page.parent / file_part).resolve() if file_part else page
            if not resolved.exists():
                broken.append(f"{page.relative_to(REPO)}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in _anchors(resolved):
                broken.append(f"{page.relative_to(REPO)}: {target} (no such heading)")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_readme_is_a_front_page() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 220
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    assert blocks[0].strip().endswith("aws-siem-connector demo") and blocks[1].strip() == "bash tests/run.sh"
