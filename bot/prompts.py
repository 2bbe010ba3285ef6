"""Prompt templates from `prompts/`, checked strictly when they are loaded, not when they are used."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

# What the model must say when the passages do not answer; the prompt and `verify` both use it.
CANNOT_ANSWER = {"zh": "报告中没有找到相关内容。", "en": "The reports do not say."}
# Filled in when a template is loaded (not by the chain), so the text in the prompt and the check agree.
CONSTANTS = {"cannot_answer_zh": CANNOT_ANSWER["zh"], "cannot_answer_en": CANNOT_ANSWER["en"]}

# Every template and exactly the placeholders it must use (constants may appear in any of them).
EXPECTED = {
    "system": frozenset(),
    "answer": frozenset({"passages", "question"}),
    "condense": frozenset({"history", "question"}),
}


class PromptError(ValueError):
    """A prompt file is missing or its placeholders are not the ones the code fills in."""


@dataclass(frozen=True)
class Prompts:
    system: str
    answer: str
    condense: str


def placeholders(template: str, name: str) -> set[str]:
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}
    except ValueError as exc:  # an unmatched { or }
        raise PromptError(f"{name}: {exc} (write literal braces as {{{{ and }}}})") from exc
    if "" in fields or any(not f.isidentifier() for f in fields):
        raise PromptError(f"{name}: placeholders must be names like {{question}}, found {sorted(fields)}")
    return fields


def load_prompt(folder: Path, name: str, expected: frozenset[str]) -> str:
    """One template, whose placeholders must be exactly `expected`."""
    path = folder / f"{name}.md"
    if not path.is_file():
        raise PromptError(f"{path}: prompt file missing")
    text = path.read_text(encoding="utf-8").strip()
    found = placeholders(text, str(path)) - set(CONSTANTS)
    if found != expected:
        missing, unknown = sorted(expected - found), sorted(found - expected)
        raise PromptError(f"{path}: missing placeholders {missing}, unknown placeholders {unknown}")
    for name, value in CONSTANTS.items():
        text = text.replace("{" + name + "}", value)
    return text


def load_prompts(folder: Path) -> Prompts:
    return Prompts(**{name: load_prompt(folder, name, expected) for name, expected in EXPECTED.items()})
