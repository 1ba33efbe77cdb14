"""MyAnswers' "Download my answers" in a real browser: the download event fires, in JupyterLab and in
Voila, and the file it saves parses as a learner bundle."""

from __future__ import annotations

import pytest

from widgets.exchange.bundle import read_bundle

from .conftest import new_watched_page, save_failure_screenshot
from .jlab import open_notebook, run_all
from .test_dashboard import render

BUTTON = "button.dualrole-download"


def _download(page, tmp_path):
    button = page.locator(BUTTON).first
    button.wait_for()
    assert button.inner_text() == "Download my answers"
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == "my-answers.jsonl"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    read = read_bundle(target)
    assert read.rejected is None, read.rejected
    assert read.manifest["learner"] and not any(line.problem for line in read.lines)
    return read


@pytest.mark.browser
def test_download_my_answers_in_jupyterlab(page, lab, tmp_path):
    open_notebook(page, lab, "00_start_here.ipynb")
    run_all(page)
    read = _download(page, tmp_path)
    assert read.manifest["count"] == len(read.lines)


@pytest.mark.browser
def test_download_my_answers_in_voila(request, chromium, tmp_path):
    voila = request.getfixturevalue("voila")
    page = new_watched_page(chromium)
    try:
        render(page, voila.render_url("00_start_here.ipynb"))
        _download(page, tmp_path)
        assert page.watch.page_errors == []
    except BaseException:
        save_failure_screenshot(page, "my-answers-voila")
        raise
    finally:
        page.context.close()
