"""Driving JupyterLab from Playwright: open a notebook, run it, read what it shows.

Each helper waits on the application's own state (the kernel's status, the cells' execution
counts), never on a fixed sleep.
"""

from __future__ import annotations

from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
KERNEL_TIMEOUT = 60_000  # ms: a kernel start plus pandas/ipywidgets imports on a busy 2-core box
WIDGET_ERRORS = ("Error displaying widget", "model not found", "Failed to load model class",
                 "Error rendering", "Loading widget...")

_CURRENT = "window.jupyterapp && window.jupyterapp.shell.currentWidget"
_KERNEL_IDLE = (
    f"{_CURRENT} && window.jupyterapp.shell.currentWidget.sessionContext"
    " && window.jupyterapp.shell.currentWidget.sessionContext.session"
    " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
    " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'"
)


def open_notebook(page, lab, path: str) -> None:
    """Open ``path`` (relative to the served root) in a fresh workspace; wait for an idle kernel."""
    page.goto(f"{lab.url}/lab/tree/{path}?reset")
    page.wait_for_function(
        f"() => {_CURRENT} && window.jupyterapp.shell.currentWidget.context"
        f" && window.jupyterapp.shell.currentWidget.context.path === {path!r}",
        timeout=KERNEL_TIMEOUT,
    )
    page.wait_for_function(f"() => {_KERNEL_IDLE}", timeout=KERNEL_TIMEOUT)


def run_all(page) -> None:
    """Run every cell and wait until the kernel has answered them all and widgets have rendered."""
    page.evaluate("async () => { await window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
    page.wait_for_function(f"() => {_KERNEL_IDLE}", timeout=KERNEL_TIMEOUT)
    wait_for_widgets(page)


def wait_for_idle(page) -> None:
    """Wait until the kernel has answered everything sent to it (a widget click included)."""
    page.wait_for_function(f"() => {_KERNEL_IDLE}", timeout=KERNEL_TIMEOUT)


def wait_for_widgets(page) -> None:
    """Wait until no widget output is still showing its loading placeholder."""
    page.wait_for_function(
        """() => {
            const panel = window.jupyterapp.shell.currentWidget.node;
            const pending = [...panel.querySelectorAll('.jp-OutputArea-output')]
                .filter(o => o.textContent.includes('Loading widget...'));
            return pending.length === 0;
        }""",
        timeout=KERNEL_TIMEOUT,
    )


def code_cell_count(page) -> tuple[int, int]:
    """(code cells, code cells with an execution count) of the open notebook."""
    return tuple(page.evaluate(
        """() => {
            const cells = window.jupyterapp.shell.currentWidget.content.widgets
                .filter(c => c.model.type === 'code');
            return [cells.length, cells.filter(c => c.model.executionCount !== null).length];
        }"""
    ))


def error_outputs(page) -> list[str]:
    """Every ``error`` output (a traceback) and stderr traceback in the open notebook, as text."""
    return page.evaluate(
        """() => {
            const found = [];
            for (const cell of window.jupyterapp.shell.currentWidget.content.widgets) {
                if (cell.model.type !== 'code') continue;
                for (const out of cell.model.outputs.toJSON()) {
                    if (out.output_type === 'error') found.push(out.ename + ': ' + out.evalue);
                    const text = out.output_type === 'stream' ? [].concat(out.text).join('') : '';
                    if (text.includes('Traceback')) found.push(text.slice(0, 500));
                }
            }
            return found;
        }"""
    )


def widget_problems(page) -> list[str]:
    """Widget outputs that failed to render ("model not found" and the like)."""
    return page.evaluate(
        """(needles) => {
            const panel = window.jupyterapp.shell.currentWidget.node;
            const found = [];
            for (const el of panel.querySelectorAll('.jupyter-widgets-error-widget, .jp-OutputArea-output')) {
                const text = el.textContent || '';
                for (const n of needles) if (text.includes(n)) found.push(n + ' :: ' + text.slice(0, 200));
                if (el.classList.contains('jupyter-widgets-error-widget'))
                    found.push('error widget :: ' + text.slice(0, 200));
            }
            return [...new Set(found)];
        }""",
        list(WIDGET_ERRORS),
    )


def focused(page) -> dict:
    """A short description of the focused element (tag, type, accessible text, classes)."""
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            if (!el) return {};
            return {tag: el.tagName.toLowerCase(), type: el.type || '', role: el.getAttribute('role') || '',
                    text: (el.innerText || el.value || el.getAttribute('aria-label') || '').slice(0, 80),
                    cls: el.className || '', inCard: !!el.closest('.dualrole-card')};
        }"""
    )


def tab_until(page, predicate: str, *, max_presses: int = 25, shift: bool = False) -> list[dict]:
    """Press Tab until ``predicate`` (a JS expression on ``el``, the focused element) holds.

    Returns the elements visited, in order, so a test can also assert the tab order.
    """
    visited = []
    key = "Shift+Tab" if shift else "Tab"
    for _ in range(max_presses):
        page.keyboard.press(key)
        visited.append(focused(page))
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!(el && ({predicate})); }}"):
            return visited
    raise AssertionError(f"{key} x{max_presses} never reached {predicate}; visited: {visited}")


def screenshot(target, name: str, folder: Path = ARTIFACTS) -> Path:
    """Save a screenshot of a page or a locator (a card) under tests/artifacts/ (ignored by git).

    JupyterLab scrolls inside a fixed-height panel, so for a tall element the viewport is made tall
    enough to hold it whole, then restored.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page = getattr(target, "page", None)
    if page is None:  # a Page
        target.screenshot(path=str(path))
        return path
    size = page.viewport_size
    box = target.bounding_box()
    if box and box["height"] + 200 > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": int(box["height"]) + 300})
    try:
        target.scroll_into_view_if_needed()
        target.screenshot(path=str(path))
    finally:
        page.set_viewport_size(size)
    return path


def docs_image(target, name: str) -> Path | None:
    """Refresh ``docs/img/<name>.png`` for the README, only when ``DUALROLE_DOCS_IMG=1``.

    Off by default, so an ordinary test run never rewrites a committed file.
    """
    import os

    if os.environ.get("DUALROLE_DOCS_IMG") != "1":
        return None
    return screenshot(target, name, folder=DOCS_IMG)


def open_in_app(page, path: str, kernel_id: str | None = None) -> None:
    """Open another notebook in the already loaded JupyterLab (no page load); wait for its kernel.

    With ``kernel_id`` the notebook joins that running kernel instead of starting its own.
    """
    page.evaluate(
        "async ([path, id]) => { await window.jupyterapp.commands.execute('docmanager:open',"
        " id ? {path, kernel: {id}} : {path}); }",
        [path, kernel_id],
    )
    page.wait_for_function(
        f"(path) => {_CURRENT} && window.jupyterapp.shell.currentWidget.context"
        " && window.jupyterapp.shell.currentWidget.context.path === path",
        arg=path, timeout=KERNEL_TIMEOUT,
    )
    page.wait_for_function(f"() => {_KERNEL_IDLE}", timeout=KERNEL_TIMEOUT)


def kernel_id(page) -> str:
    """The id of the open notebook's kernel."""
    return page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.id")


def close_current(page, *, keep_kernel: bool = False) -> None:
    """Close the open notebook without saving (the served copy stays clean); stop its kernel
    unless ``keep_kernel``."""
    page.evaluate(
        """async (keep) => {
            const w = window.jupyterapp.shell.currentWidget;
            if (!keep) await w.sessionContext.shutdown();
            w.context.model.dirty = false;
            w.dispose();
        }""",
        keep_kernel,
    )


# -- accessibility (axe-core) -------------------------------------------------------------------

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def run_axe(page, selector: str, axe_path: Path) -> dict:
    """Run axe-core (WCAG 2.1 A and AA rules) on the elements matching ``selector``.

    Returns ``{"violations": [...], "rules": [every rule id that ran], "incomplete": [...]}``.
    """
    if not axe_path.exists():
        from conftest import skip_or_fail

        skip_or_fail(f"axe-core is not installed ({axe_path}): run `npm ci --prefix tests/browser`")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe_path))
    return page.evaluate(
        """async ([selector, tags]) => {
            const result = await axe.run({include: [[selector]]}, {runOnly: {type: 'tag', values: tags},
                                                                   resultTypes: ['violations']});
            const brief = (list) => list.map(r => ({id: r.id, impact: r.impact, help: r.help,
                nodes: r.nodes.map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').slice(0, 300))}));
            const rules = [...result.passes, ...result.violations, ...result.incomplete, ...result.inapplicable]
                .map(r => r.id);
            return {violations: brief(result.violations), incomplete: brief(result.incomplete),
                    rules: [...new Set(rules)].sort()};
        }""",
        [selector, AXE_TAGS],
    )


def serious(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in ("serious", "critical")]


def aria_snapshot(locator) -> str:
    """The accessibility tree of a locator as Playwright computes it: roles and accessible names."""
    return locator.aria_snapshot()


def widget_outputs(page) -> tuple[int, int]:
    """(widget outputs in the notebook's model, those drawn in the page with a visible size)."""
    return tuple(page.evaluate(
        """() => {
            let expected = 0, drawn = 0;
            for (const cell of window.jupyterapp.shell.currentWidget.content.widgets) {
                if (cell.model.type !== 'code') continue;
                const outputs = cell.model.outputs.toJSON()
                    .filter(o => o.data && o.data['application/vnd.jupyter.widget-view+json']);
                expected += outputs.length;
                const views = [...cell.node.querySelectorAll('.jp-OutputArea-output')]
                    .filter(o => o.querySelector('.jupyter-widgets, .widget-container, .widget-box')
                                 && o.getBoundingClientRect().height > 0);
                drawn += Math.min(views.length, outputs.length);
            }
            return [expected, drawn];
        }"""
    ))
