"""A lesson case with a ``say:`` block, for tests of the "what would you say" step: the cosmetics case
under the id ``say_practice``, written into an instructor's case folder. The shipped cases' own blocks
are content, which may change; this one stays as the tests expect it."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAY_ID = "say_practice"
SAY_BLOCK = """say:
  kind: script
  to: client
  prompt: >-
    Marisol is waiting for your answer about the catalogue. Write the two to four sentences you would say to her.
  checklist:
    - Thanks her and shows you see what the bonus means to her
    - Says plainly that you don't buy from clients
    - Explains that this keeps the sessions about her
    - Invites her to talk about the request next session
  model: >-
    "Thank you for thinking of me, and I can see what the bonus means to you. I don't buy from the people
    I see, so that our time here stays about you. Could we talk next week about what the request meant?"
"""


def write_say_case(folder: Path) -> Path:
    """Write ``say_practice.md`` into ``folder`` (made if missing) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    text = (REPO / "data" / "cases" / "cosmetics.md").read_text(encoding="utf-8").replace(
        "id: cosmetics", f"id: {SAY_ID}", 1)
    head, sep, body = text.partition("\n---\n")
    head = re.sub(r"^say:\n(?:[ #].*\n?|\n)*", "", head + "\n", flags=re.M).rstrip("\n")
    path = folder / f"{SAY_ID}.md"
    path.write_text(head + "\n" + SAY_BLOCK.rstrip("\n") + sep + body, encoding="utf-8")
    return path
