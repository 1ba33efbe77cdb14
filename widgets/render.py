"""The one place text becomes HTML.

Case Markdown goes through markdown-it with raw HTML switched off, then through nh3 with an
allow-list, so neither an author's file nor a learner's words can run script in any view.
"""

from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "em", "strong", "ul", "ol", "li", "blockquote", "code", "pre", "h3", "h4", "a",
    "table", "thead", "tbody", "tr", "th", "td", "caption", "span", "div", "section", "dl", "dt", "dd",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "th": {"scope"},
    "td": {"class"},
    "span": {"class", "role", "aria-label"},
    "div": {"class", "role", "aria-live", "aria-label"},
    "section": {"class", "aria-label"},
}
# Only ordinary web links survive; javascript:, data: and the rest are dropped by nh3.
URL_SCHEMES = {"http", "https", "mailto"}

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


def markdown(text: str) -> str:
    """Render trusted-format, untrusted-content Markdown to safe HTML."""
    return sanitize(_md.render(text or ""))


def sanitize(fragment: str) -> str:
    """Strip everything outside the allow-list from an HTML fragment."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def text(value: object) -> str:
    """Plain text (a justification, a label) as inert HTML."""
    return html.escape("" if value is None else str(value), quote=True)


def paragraphs(value: str) -> str:
    """Plain text with its line breaks kept, escaped; long unbroken strings wrap."""
    escaped = text(value).replace("\n", "<br>")
    return f'<div class="dualrole-text" style="overflow-wrap:anywhere;white-space:normal">{escaped}</div>'


def content_note(note: str) -> str:
    """A case's content note as the card and the handout show it, before the vignette, with the opt-out.

    >>> "you do not have to say why" in content_note("Child abuse.")
    True
    """
    return (f'<div class="dualrole-content-note" role="note" style="border-left:4px solid #8a4b00;'
            f'padding-left:0.6em"><p><strong>Content note:</strong> {text(note)} '
            "You may skip this case, or come back to it later; you do not have to say why.</p></div>")
