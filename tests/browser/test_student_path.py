"""A student's path in JupyterLab with no traps: keys never reach the notebook's shortcuts, a class code
hides nothing, a restart leaves a clear notice rather than dead controls, the post-test asks twice, and
every control fits a 400 px screen.

One notebook holds one of each dualrole widget a student meets (a card with Kitchener's factors, My
answers, a reflection box, the decision model, the post-test gate); the tests share the session's
JupyterLab server.
"""

from __future__ import annotations

import pytest

from widgets.store import open_store

from .conftest import AXE
from .jlab import error_outputs, open_notebook, run_all, run_axe, screenshot, serious, wait_for_widgets, widget_problems

CASE = "cosmetics"  # lesson 02: it has a second role, so the card asks Kitchener's factors
CELLS = [
    "from widgets.ui.card import CaseCard\nfrom widgets.ui.myanswers import MyAnswers, ReflectionBox\n"
    "from widgets.ui.decision import DecisionModel\nfrom widgets.ui.assessment import Assessment",
    f'CaseCard("{CASE}")',
    "MyAnswers()",
    'ReflectionBox("01_confidentiality")',
    'DecisionModel("climbing_with_supervisee")',
    'Assessment("post")',
    'CaseCard("client_hair_salon")',
]
KEYS = ["ArrowDown", "m", "a", "b", "d", "d", "Escape", "Enter"]


def cells(page) -> list[str]:
    """The notebook's cells as types, and the active cell unless it holds the focus: what a stray
    shortcut would change (ArrowDown moves to the next cell, m makes Markdown, a and b insert, d d deletes)."""
    return page.evaluate(
        """() => { const nb = window.jupyterapp.shell.currentWidget.content;
                   const holder = nb.widgets.findIndex(c => c.node.contains(document.activeElement));
                   return [...nb.widgets.map(c => c.model.type),
                           holder === nb.activeCellIndex ? 'active cell holds the focus'
                                                         : 'active:' + nb.activeCellIndex]; }"""
    )


def open_path(page, lab, learner_home, name: str) -> None:
    path = lab.notebook(name, CELLS, learner_home)
    open_notebook(page, lab, path)
    run_all(page)
    assert error_outputs(page) == []
    assert widget_problems(page) == []


def press_all(page, locator) -> None:
    """Click into the notebook's command mode on the cell, focus the control, press every key."""
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:enter-command-mode')")
    locator.focus()
    for key in KEYS:
        page.keyboard.press(key)


@pytest.mark.browser
def test_no_key_inside_a_control_reaches_the_notebook_shortcuts(page, lab, learner_home):
    open_path(page, lab, learner_home, "student-keys")
    card = page.locator(".dualrole-card").first
    before = ["code"] * len(CELLS) + ["code", "active cell holds the focus"]

    # The case's options: ArrowDown moves the choice to the next option.
    first_option = card.locator("fieldset.dualrole-choice").first.locator("input[type=radio]").first
    press_all(page, first_option)
    assert card.locator("fieldset.dualrole-choice").first.locator("input[type=radio]").nth(1).is_checked()
    assert cells(page) == before

    # A Kitchener rating: a row of radios (no select), ArrowDown moves Low to Medium.
    rating = card.locator("fieldset.dualrole-choice-inline").first
    assert card.locator("select").count() == 0
    press_all(page, rating.locator("input[type=radio]").first)
    assert rating.get_by_label("Medium").is_checked()
    assert cells(page) == before

    # The confidence slider: ArrowDown moves it one step down.
    slider = card.locator("input[type=range]")
    press_all(page, slider)
    assert slider.input_value() == "45"
    assert cells(page) == before

    # The reasoning box: letters are text, Enter a new line.
    reasoning = card.get_by_role("textbox", name="Your reasoning:")
    press_all(page, reasoning)
    assert reasoning.input_value() == "mabdd\n"
    assert cells(page) == before

    # A button (My answers' Refresh) and a text box (the class code).
    panel = page.locator(".dualrole-myanswers")
    press_all(page, panel.get_by_role("button", name="Refresh"))
    assert cells(page) == before
    code = panel.get_by_label("My class code:")
    press_all(page, code)
    assert code.input_value().endswith("mabdd")
    assert cells(page) == before

    # The decision model's ratings are radios too.
    decision = page.locator(".dualrole-guard", has=page.get_by_text("Step 2: Gottlieb's dimensions")).first
    assert decision.locator("select").count() == 0
    press_all(page, decision.locator("fieldset.dualrole-choice-inline").first.locator("input").first)
    assert cells(page) == before

    # The page's own keys still work outside the widgets.
    screenshot(card, "student-keys-card")


@pytest.mark.browser
def test_a_restart_turns_every_widget_into_a_notice_that_accepts_no_input(page, lab, learner_home):
    open_path(page, lab, learner_home, "student-restart")
    page.evaluate("async () => { await window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
                  ".restart(); }")
    card = page.locator(".dualrole-card").first
    notice = card.locator(".dualrole-stale-notice")
    notice.wait_for(timeout=30_000)
    assert "made before the kernel restarted: run this cell again" in notice.inner_text()
    assert notice.get_attribute("role") == "alert"
    box = page.locator(".dualrole-guard", has=page.get_by_text("Save my reflection")).first
    box.locator(".dualrole-stale-notice").wait_for(timeout=30_000)
    reflection = box.locator("textarea")
    assert reflection.is_disabled()
    assert box.get_by_role("button", name="Save my reflection").is_disabled()
    for control in card.locator("input, textarea, button").all():
        assert control.is_disabled()
    screenshot(card, "student-after-restart")


@pytest.mark.browser
def test_a_class_code_hides_no_answer_the_reference_leads_on_and_the_post_test_asks_twice(page, lab, learner_home):
    open_path(page, lab, learner_home, "student-code")
    card = page.locator(".dualrole-card").first
    card.locator("fieldset.dualrole-choice").first.locator("input").first.check()
    card.get_by_role("textbox", name="Your reasoning:").fill("The gifts blur the professional frame and create obligations.")
    submit = card.get_by_role("button", name="Commit my answer")
    page.wait_for_function("b => !b.disabled", arg=submit.element_handle())
    submit.click()
    panel = page.locator(".dualrole-myanswers")
    # My answers counts the commit without a Refresh.
    page.wait_for_function("p => /: 1 of \\d+ cases answered/.test(p.innerText)", arg=panel.element_handle(),
                           timeout=30_000)
    # Plain words: a folder, not a database URL; no learner id (those wait under "Technical details").
    shown = panel.inner_text()
    assert "sqlite:" not in shown and "local-" not in shown and "Technical details" in shown
    code = panel.get_by_label("My class code:")
    code.fill("psy101")
    panel.get_by_role("button", name="Set my class code").click()
    message = panel.get_by_text("Your class code is now psy101")
    message.wait_for(timeout=30_000)
    assert "Your 1 earlier answer stay yours and still count in your progress" in message.inner_text()

    # Run everything again under the new code: the answer is still there, and still counted.
    run_all(page)
    card = page.locator(".dualrole-card").first
    assert card.get_by_role("button", name="Committed").is_disabled()
    assert "1 of" in page.locator(".dualrole-myanswers").inner_text()
    rows = open_store(f"sqlite:///{learner_home / 'responses.sqlite'}").responses()
    assert len(rows) == 1 and rows[0]["cohort"] == "self-study"

    # The reference reads at a glance, and one button leads on to the next case.
    card.get_by_role("button", name="Keep my answer").click()
    card.get_by_role("button", name="Show the reference").click()
    card.locator(".dualrole-verdict").wait_for(timeout=30_000)
    verdict = card.locator(".dualrole-verdict").inner_text()
    assert verdict.index("Your answer:") < verdict.index("The reference:") < verdict.index("Why:")
    card.get_by_role("button", name="Next case ↓").click()
    second = page.locator(".dualrole-card").nth(1)
    assert second.locator("h3").first.evaluate("h => document.activeElement === h")
    assert second.get_by_role("button", name="Next case ↓").is_hidden()  # no reference yet, and no case after

    # The post-test: a first click states what is left and asks again.
    gate = page.locator(".dualrole-guard", has=page.get_by_text("Post-test: not open yet")).first
    gate.get_by_role("button", name="I have finished the course: open the post-test").click()
    gate.get_by_text("lesson cases are still unanswered").first.wait_for(timeout=30_000)
    assert gate.get_by_role("button", name="Yes, open the post-test now").is_visible()
    assert gate.locator(".dualrole-card").count() == 0


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 400])
def test_every_control_fits_the_screen_and_axe_finds_nothing_serious(page, lab, learner_home, width):
    page.set_viewport_size({"width": width, "height": 900})
    open_path(page, lab, learner_home, f"student-{width}")
    # On a phone a student reads the notebook alone: the side panels folded away, one document.
    page.evaluate("""async () => { const app = window.jupyterapp;
        if (!app.shell.leftCollapsed) await app.commands.execute('application:toggle-left-area');
        if (!app.shell.rightCollapsed) await app.commands.execute('application:toggle-right-area');
        app.shell.mode = 'single-document'; }""")
    wait_for_widgets(page)
    outside = page.evaluate(
        """(width) => [...document.querySelectorAll('.dualrole-guard input, .dualrole-guard textarea,'
                + ' .dualrole-guard button, .dualrole-guard select, .dualrole-guard legend, .dualrole-guard label')]
            .filter(el => el.offsetParent !== null)
            .map(el => [el, el.getBoundingClientRect()])
            .filter(([el, r]) => r.left < 0 || r.right > width + 0.5
                    || (el.tagName === 'BUTTON' && el.scrollWidth > el.clientWidth + 1))
            .map(([el, r]) => `${el.tagName} ${(el.textContent || el.value || '').slice(0, 40)} ${r.left}-${r.right}`)""",
        width,
    )
    assert outside == [], outside
    screenshot(page, f"student-path-{width}")
    result = run_axe(page, ".dualrole-guard", AXE)
    assert serious(result["violations"]) == [], result["violations"]


# -- the course view: `dualrole course` --------------------------------------------------------------


@pytest.fixture(scope="module")
def course(browser_base, chromium):
    """``dualrole course`` as a student starts it, on a data folder of its own.

    It runs Voila as its child: stopping it stops that Voila and its kernels too (tests/servers.py).
    """
    import sys

    from servers import free_port, running

    from .conftest import REPO, server_env

    port = free_port()
    env = server_env(browser_base / "course", DUALROLE_HOME=str(browser_base / "course-home"))
    url = f"http://127.0.0.1:{port}"
    with running([sys.executable, "-m", "widgets", "course", "--no-browser", f"--port={port}"], f"{url}/voila/tree",
                 what="dualrole course", log=browser_base / "course.log", env=env, cwd=REPO):
        yield url, browser_base / "course-home"


@pytest.mark.browser
def test_the_course_view_is_the_whole_course_with_my_answers_on_every_page(chromium, course):
    from .conftest import new_watched_page, save_failure_screenshot

    url, home = course
    page = new_watched_page(chromium)
    try:
        # The tree offers the course alone: no instructor's notebook.
        page.goto(f"{url}/voila/tree")
        page.get_by_text("01_confidentiality.ipynb").first.wait_for(timeout=30_000)
        listing = page.locator("body").inner_text()
        assert "01_confidentiality" in listing and "instructor_" not in listing
        page.goto(f"{url}/voila/render/00_start_here.ipynb", timeout=120_000)
        page.locator(".dualrole-myanswers").wait_for(timeout=120_000)
        assert page.get_by_text("Set my class code").count() >= 1
        assert "In JupyterLab, run the next cell first" in page.locator("body").inner_text()  # not an order here
        # Next lesson, by its link: the lesson's cards and My answers again.
        page.get_by_role("link", name="1. Confidentiality and the fact of therapy →").first.click()
        page.wait_for_url("**/01_confidentiality.ipynb", timeout=60_000)
        page.locator(".dualrole-card").first.wait_for(timeout=120_000)
        assert page.locator(".dualrole-myanswers").count() >= 1  # at the top, and again at the foot
        # An answer given here is kept where JupyterLab keeps it.
        card = page.locator(".dualrole-card").first
        card.locator("fieldset.dualrole-choice").first.locator("input").first.check()
        card.get_by_role("textbox", name="Your reasoning:").fill("Confirming she is a client would breach her confidentiality.")
        submit = card.get_by_role("button", name="Commit my answer")
        page.wait_for_function("b => !b.disabled", arg=submit.element_handle(), timeout=30_000)
        submit.click()
        page.wait_for_function("p => /: 1 of \\d+ cases answered/.test(p.innerText)",
                               arg=page.locator(".dualrole-myanswers").first.element_handle(), timeout=30_000)
        store = open_store(f"sqlite:///{home / 'responses.sqlite'}")
        assert len(store.responses()) == 1
        # Kept, the answer is final: what would you say? The words are saved as they are in JupyterLab.
        card.get_by_role("button", name="Keep my answer").click()
        words = card.get_by_role("textbox", name="Your words:")
        words.wait_for(timeout=30_000)
        words.fill("I can't promise that everything stays here, and I want you to know the exceptions now.")
        card.locator(".dualrole-say").get_by_role("checkbox").first.check()
        card.get_by_role("button", name="Save my words").click()
        card.get_by_role("status").filter(has_text="Saved, with 1 of").wait_for(timeout=30_000)
        [script] = store.scripts()
        assert script["checks"] == [0] and script["text"].startswith("I can't promise")
        assert page.watch.page_errors == []
        screenshot(page, "course-view-lesson")
    except BaseException:
        save_failure_screenshot(page, "course-view")
        raise
    finally:
        page.context.close()

