"""Command lines shown in the docs, turned into argument lists the real parser can judge.

A doc shows ``aws-siem-connector ...`` in fenced code blocks and inline code spans. Synopses use
a small grammar: ``[optional]`` parts, ``a|b`` alternatives (``a\\|b`` inside Markdown tables),
``...`` for repetition and UPPER_CASE placeholders (``URL``, ``PATH``, ``N``). Each shown line
becomes one concrete command line: optional parts included, the first alternative taken, and
each placeholder replaced by a value the option accepts (its first choice, a number for a
numeric option, a sample word otherwise).
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PROGRAM = "aws-siem-connector"
_FENCE = re.compile(r"^(\s*)(```|~~~)")
_INLINE = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_PLACEHOLDER = re.compile(r"^(\.\.\.|[A-Z][A-Z0-9_-]*(\.\.\.)?|[A-Z]+(-[A-Z]+)+|<[^>]+>)$")
_ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=")


@dataclass(frozen=True)
class ShownCommand:
    """One command line as a doc shows it, and where."""

    path: Path
    line: int
    text: str


def shown_commands(path: Path, text: str | None = None) -> Iterator[ShownCommand]:
    """Every ``aws-siem-connector`` command line in a Markdown page, code blocks and inline code."""
    lines = (text if text is not None else path.read_text(encoding="utf-8")).splitlines()
    in_block = False
    pending = ""
    pending_at = 0
    for number, raw in enumerate(lines, start=1):
        if _FENCE.match(raw):
            in_block = not in_block
            pending = ""
            continue
        if in_block:
            line = raw.strip()
            if pending:
                line = pending + " " + line
            else:
                pending_at = number
            if line.endswith("\\"):
                pending = line[:-1].rstrip()
                continue
            pending = ""
            for segment in re.split(r"\s(?:&&|;|\|\|)\s", line):
                if _starts_with_program(segment):
                    yield ShownCommand(path, pending_at, segment.strip())
            continue
        for span in _INLINE.findall(raw.replace("\\|", "|")):
            if _starts_with_program(span):
                yield ShownCommand(path, number, span.strip())


def _starts_with_program(segment: str) -> bool:
    words = [w for w in segment.strip().lstrip("$ ").split() if not _ENV_ASSIGNMENT.match(w)]
    # The bare name in prose ("`aws-siem-connector` has seven commands") is not a command line.
    return len(words) > 1 and (words[0] == PROGRAM or words[0].endswith("/" + PROGRAM))


def _choose(text: str) -> str:
    """Optional groups included, alternatives resolved to the first, recursively."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "[":
            depth, j = 1, i + 1
            while j < len(text) and depth:
                depth += {"[": 1, "]": -1}.get(text[j], 0)
                j += 1
            inner = text[i + 1:j - 1]
            out.append(" " + _choose(_first_alternative(inner)) + " ")
            # `[--account ID]...`: a repeated group is shown once.
            i = j + 3 if text.startswith("...", j) else j
            continue
        out.append(char)
        i += 1
    # Alternatives outside brackets bind within one word: `--sink file|splunk`.
    return " ".join(word.split("|")[0] if "|" in word else word for word in "".join(out).split())


def _first_alternative(group: str) -> str:
    """``--type a|b`` -> ``--type a``; ``--x A|--y B`` -> ``--x A``: the text before the first ``|``."""
    depth = 0
    for i, char in enumerate(group):
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "|" and depth == 0:
            return group[:i]
    return group


def _sample(action: argparse.Action | None) -> str | None:
    """A value ``action`` accepts in place of a placeholder; ``None`` drops the placeholder."""
    if action is None:
        return "sample"
    if action.nargs == 0:
        return None
    if action.choices:
        return str(next(iter(action.choices)))
    if action.type in (int, float):
        return "2"
    return "sample"


def argv_of(command: ShownCommand, parser: argparse.ArgumentParser) -> list[str]:
    """The concrete argument list (without the program name) for a shown command line."""
    words = shlex.split(_choose(command.text.lstrip("$ ")), comments=True)
    words = [w for w in words if not _ENV_ASSIGNMENT.match(w)][1:]
    subparser = parser
    argv: list[str] = []
    last_option: argparse.Action | None = None
    for word in words:
        option = _option(subparser, word)
        if option is not None:
            argv.append(word)
            last_option = option if option.nargs != 0 else None
            continue
        if _PLACEHOLDER.match(word) and last_option is None and _subcommands(subparser):
            # `aws-siem-connector COMMAND --help`: any command will do; take the first.
            name = next(iter(_subcommands(subparser)))
            argv.append(name)
            subparser = _subcommand(subparser, name) or subparser
            continue
        if _PLACEHOLDER.match(word):
            value = _sample(last_option)
            if value is not None:
                argv.append(value)
            last_option = None
            continue
        argv.append(word.removesuffix("..."))
        if last_option is None:
            subparser = _subcommand(subparser, word) or subparser
        last_option = None
    return argv


def _option(parser: argparse.ArgumentParser, word: str) -> argparse.Action | None:
    return parser._option_string_actions.get(word.split("=")[0]) if word.startswith("-") else None


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _subcommand(parser: argparse.ArgumentParser, word: str) -> argparse.ArgumentParser | None:
    return _subcommands(parser).get(word)


def rejection(command: ShownCommand, parser: argparse.ArgumentParser) -> str | None:
    """Why the real parser refuses the command line, or ``None`` when it accepts it."""
    import contextlib
    import io

    argv = argv_of(command, parser)
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code not in (0, None):
            last = (err.getvalue().strip().splitlines() or ["exit " + str(exc.code)])[-1]
            return f"{command.path}:{command.line}: `{command.text}` -> {argv}: {last}"
    return None
