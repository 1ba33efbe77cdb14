"""Script-injection payloads, and an instructor's case file that carries them.

Each payload, if it ever ran, would set ``window.__pw`` and open a dialog; the tests
assert that neither happens and that the payload is shown as inert text.
"""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PROBE_ID = "injection_probe"


def js(where: str) -> str:
    return f"__pw='{where}';alert('{where}')"


LONG_TOKEN = "W" * 1500  # one very long unbroken string: must wrap, not widen the card

JUSTIFICATION = (
    f"<script>{js('justification-script')}</script> "
    f"<img src=x onerror=\"{js('justification-img')}\"> "
    f"<a href=\"javascript:{js('justification-a')}\">link</a> "
    f"[md link](javascript:{js('justification-md')}) "
    f"{LONG_TOKEN}"
)

# What the learner's words must still read as, once shown (escaped, never parsed as HTML).
JUSTIFICATION_VISIBLE = ["<script>", "<img src=x onerror=", "javascript:"]


def _yaml_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def injection_case_text() -> str:
    """``cosmetics.md`` with payloads in its title, labels, vignette, rationale and discussion."""
    source = (REPO / "data" / "cases" / "cosmetics.md").read_text(encoding="utf-8")
    text = source.replace("id: cosmetics", f"id: {PROBE_ID}", 1)
    text = text.replace(
        "title: The cosmetics catalogue",
        "title: " + _yaml_quote(f"Probe <script>{js('t')}</script><img src=x onerror=\"{js('ti')}\">"),
        1,
    )
    # Found by option id, so that rewording a label does not silently drop its payload.
    def label(option_id: str, payload: str) -> None:
        nonlocal text
        text, n = re.subn(rf"(- id: {option_id}\n    label: ).*", lambda m: m.group(1) + _yaml_quote(payload), text, count=1)
        assert n == 1, option_id

    label("decline_explore", f"Decline <img src=x onerror=\"{js('label-img')}\"> and explore")
    label("decline_only", f"Decline <a href=\"javascript:{js('label-a')}\">politely</a>")
    text = text.replace(
        "  - How would you word the refusal",
        "  - " + _yaml_quote(f"<svg onload=\"{js('discussion-svg')}\"></svg> How would you word it?")
        + "\n  - How would you word the refusal",
        1,
    )
    vignette_payloads = "\n\n".join([
        f"<script>{js('vignette-script')}</script>",
        f"<img src=x onerror=\"{js('vignette-img')}\">",
        f"A [Markdown link](javascript:{js('vignette-md-link')}) and an "
        f"[encoded one](jav&#x61;script:{js('vignette-md-encoded')}).",
        f"<a href=\"javascript:{js('vignette-a')}\">raw link</a>",
        f"![image](javascript:{js('vignette-md-image')})",
        f"<iframe src=\"javascript:{js('vignette-iframe')}\"></iframe>",
        f"A long unbroken string: {LONG_TOKEN}",
    ])
    text = text.replace("## Vignette\n\n", "## Vignette\n\n" + vignette_payloads + "\n\n", 1)
    text = text.replace(
        "## Reference rationale\n\n",
        "## Reference rationale\n\n"
        f"<script>{js('rationale-script')}</script> [see](javascript:{js('rationale-md')}) "
        f"<img src=x onerror=\"{js('rationale-img')}\"> {LONG_TOKEN}\n\n",
        1,
    )
    assert text.count(PROBE_ID) == 1 and "__pw=" in text
    assert not re.search(r"^id: cosmetics$", text, re.M)
    return text


def write_injection_case(folder: Path) -> Path:
    """Write the probe case into ``folder`` (an instructor's ``DUALROLE_CASES``) as ``<id>.md``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{PROBE_ID}.md"
    path.write_text(injection_case_text(), encoding="utf-8")
    return path
