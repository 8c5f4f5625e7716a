"""The Jinja expressions in berth's task files, for tests/lint/test_expressions.py:
where one spans several lines or chains more than three filters, its
decision belongs in a plugin.

    python3 tests/lint/expressions.py    prints every such expression
"""

import sys
from pathlib import Path

from jinja2 import Environment
from jinja2.lexer import TOKEN_VARIABLE_BEGIN, TOKEN_VARIABLE_END

ROOT = Path(__file__).parents[2]
MAX_FILTERS = 3
OPEN, CLOSE = "([{", ")]}"
# Names that end a chain of filters as an operator does.
KEYWORDS = {"if", "else", "and", "or", "not", "in", "is"}


def yaml_files():
    for top in ("roles", "playbooks"):
        for path in sorted((ROOT / top).rglob("*.yml")):
            if (
                "meta" not in path.relative_to(ROOT).parts
                and "collections" not in path.parts
            ):
                yield path


def expressions(text):
    """(first line, source, longest chain of filters) of each {{ ... }}."""
    tokens, start = [], None
    for line, kind, value in Environment().lex(text):
        if kind == TOKEN_VARIABLE_BEGIN:
            tokens, start = [], line
        elif kind == TOKEN_VARIABLE_END:
            yield start, line, longest_chain(tokens)
            start = None
        elif start is not None:
            tokens.append((kind, value))


def longest_chain(tokens):
    """The most filters applied one after another to one value: a chain goes
    on through filter names, attributes and bracketed arguments, and ends at
    any other token at its own depth."""
    chains, longest = [0], 0
    for kind, value in tokens:
        if kind == "operator" and value in OPEN:
            chains.append(0)
        elif kind == "operator" and value in CLOSE:
            chains.pop()
        elif kind == "operator" and value == "|":
            chains[-1] += 1
            longest = max(longest, chains[-1])
        elif (
            kind == "name"
            and value not in KEYWORDS
            or kind == "operator"
            and value == "."
        ):
            continue
        elif kind != "whitespace":
            chains[-1] = 0
    return longest


def offences():
    """{(path, first line): why} of every expression past the limits."""
    found = {}
    for path in yaml_files():
        text = path.read_text(encoding="utf-8")
        for first, last, chain in expressions(text):
            why = []
            if last > first:
                why.append(f"spans lines {first}-{last}")
            if chain > MAX_FILTERS:
                why.append(f"chains {chain} filters")
            if why:
                found[(str(path.relative_to(ROOT)), first)] = ", ".join(why)
    return found


if __name__ == "__main__":
    found = offences()
    for (path, line), why in sorted(found.items()):
        print(f"{path}:{line}: {why}")
    spans = sum("spans" in why for why in found.values())
    chains = sum("chains" in why for why in found.values())
    print(
        f"{len(found)} expressions: {spans} span several lines, {chains} chain more than {MAX_FILTERS} filters"
    )
    sys.exit(1 if found else 0)
