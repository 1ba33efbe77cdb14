"""``MyAnswers()``: a learner's own panel, shown at the top of every lesson.

Progress per lesson (core cases, and optional ones apart) and on the pre/post assessment, **Download my
answers** (the same bundle as ``dualrole export``, offered as a browser download in JupyterLab and in Voila
alike), erase with confirmation, the cohort (class code), the "own words first" setting, and where the answers
are kept. Also ``ReflectionBox``,
the text box and Save button under each lesson's reflection prompts.
"""

from __future__ import annotations

import base64
from datetime import datetime, timezone
from pathlib import Path

import anywidget
import ipywidgets as ipw
import traitlets as t

from widgets.cases.course import lesson
from widgets.cases.library import load_library
from widgets.errors import DualroleError
from widgets.exchange.bundle import learner_bundle
from widgets.learner import identity
from widgets.learner.connect import response_store
from widgets.learner.progress import learner_forms, progress, set_class_code
from widgets.learner.session import when_committed
from widgets.render import text
from widgets.responses.codec import to_json
from widgets.responses.contract import Reflection, check_reflection
from widgets.store import open_store
from widgets.store.protocol import ReflectionStore, ResponseStore
from widgets.ui.a11y import CommitButton, LiveStatus, guarded
from widgets.ui.feedback_panel import FeedbackImport

# The browser side of the download: a native button asks the kernel for the bundle, and the
# bundle comes back as a data URL that a temporary link downloads. It needs no server route, so
# it works the same in JupyterLab and in Voila (whose file allow-list serves no .jsonl file).
_DOWNLOAD_ESM = """
function render({ model, el }) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "jupyter-button widget-button dualrole-download";
  const label = () => { button.textContent = model.get("description"); };
  label();
  button.addEventListener("click", () => model.send({ event: "download" }));
  model.on("change:description", label);
  model.on("change:ready", () => {
    const url = model.get("payload");
    if (!url) return;
    const link = document.createElement("a");
    link.href = url;
    link.download = model.get("filename");
    link.style.display = "none";
    document.body.appendChild(link);
    link.click();
    link.remove();
  });
  el.appendChild(button);
}
export default { render };
"""


class DownloadButton(anywidget.AnyWidget):
    """A button that downloads a file the kernel makes when it is pressed.

    ``make`` is called with no arguments and returns ``(filename, text)``; the text is sent to the
    browser once, as a data URL, and saved through the browser's own download.
    """

    _esm = _DOWNLOAD_ESM
    description = t.Unicode("Download").tag(sync=True)
    mime = t.Unicode("application/x-ndjson").tag(sync=True)
    filename = t.Unicode("").tag(sync=True)
    payload = t.Unicode("").tag(sync=True)
    ready = t.Int(0).tag(sync=True)

    def __init__(self, make, **kwargs):
        super().__init__(**kwargs)
        self._make = make
        self.on_msg(self._on_message)

    def _on_message(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and content.get("event") == "download":
            self.prepare()

    def prepare(self) -> str:
        """Make the file and send it to the browser; return its text (tests call this directly)."""
        filename, body = self._make()
        encoded = base64.b64encode(body.encode("utf-8")).decode("ascii")
        with self.hold_sync():
            self.filename = filename
            self.payload = f"data:{self.mime};base64,{encoded}"
            self.ready += 1
        return body


class MyAnswers(ipw.VBox):
    """The learner's own panel: progress, download, erase, cohort, and where answers are kept.

    Parameters
    ----------
    store : ResponseStore, optional
        Where the cards' answers go (default: as the cards choose, see ``widgets.learner.connect``).
    reflections : ReflectionStore, optional
        Where saved reflections are kept (default: the local store on this machine).
    """

    def __init__(self, store: ResponseStore | None = None, reflections: ReflectionStore | None = None):
        self.store = store or response_store()
        self.reflection_store = reflections or _local_reflections(self.store)
        self.learner = identity.learner_id()
        self.progress = ipw.HTML()
        self.where = ipw.HTML()
        self.download = DownloadButton(self._bundle, description="Download my answers")
        # Beside the data file (for the instructor's tools), a page the student can read and keep.
        self.receipt = DownloadButton(self._receipt, description="Download a readable copy", mime="text/html")
        self.cohort_input = ipw.Text(value=identity.cohort(), description="My class code:",
                                     style={"description_width": "initial"},
                                     layout=ipw.Layout(width="100%", max_width="420px"))
        # The click carries the box's text, so a code typed and set at once is set whole (CommitButton).
        self.cohort_button = CommitButton(sources=[self.cohort_input], description="Set my class code",
                                          tooltip="New answers are recorded for this class; earlier ones stay yours")
        self.erase_button = ipw.Button(description="Erase my answers…", button_style="danger",
                                       tooltip="Asks you to confirm first")
        self.confirm_erase = ipw.Button(description="Yes, erase everything", button_style="danger",
                                        layout=ipw.Layout(display="none"))
        self.cancel_erase = ipw.Button(description="Keep my answers", layout=ipw.Layout(display="none"))
        self.refresh_button = ipw.Button(description="Refresh", tooltip="Count your answers again")
        # "Own words first": lesson cases ask for the learner's answer in words before the options appear.
        self.own_words_first = ipw.Checkbox(value=identity.own_words_first(), indent=False,
                                            description="Write my own answer before I see the options")
        self.own_words_first.observe(self._on_own_words_first, names="value")
        # Off the hub, the instructor's feedback comes back as a file; on a hub it reaches the cards itself.
        self.feedback = FeedbackImport(store=self.reflection_store, learner=self.learner)
        self.status = LiveStatus()
        self.cohort_button.on_click(self._on_cohort)
        self.erase_button.on_click(self._on_erase)
        self.confirm_erase.on_click(self._on_confirm_erase)
        self.cancel_erase.on_click(self._on_cancel_erase)
        self.refresh_button.on_click(lambda _b: self.refresh())
        details = ipw.VBox([
            ipw.HBox([self.download, self.receipt, self.refresh_button]),
            ipw.HBox([self.cohort_input, self.cohort_button]),
            self.own_words_first,
            ipw.HBox([self.erase_button, self.confirm_erase, self.cancel_erase]),
            self.feedback,
            self.where,
        ])
        super().__init__(children=[ipw.HTML("<h3>My answers</h3>"), self.progress, details, self.status],
                         layout=ipw.Layout(border="1px solid #bbb", padding="4px 12px", max_width="900px"))
        self.add_class("dualrole-myanswers")
        guarded(self)
        self.refresh()
        when_committed(self._on_commit)  # counts stay current without a Refresh

    # -- what the panel shows --------------------------------------------------------------------

    def refresh(self) -> None:
        """Count the learner's answers again and redraw the panel."""
        cohort = identity.cohort()
        mine = progress(self.store, self.learner)
        items = [f"<li>{text(c.title)}: {c.done} of {c.total} cases answered"
                 + (f" (and {c.optional_done} of {c.optional_total} optional)" if c.optional_total else "")
                 + "</li>" for c in mine.lessons]
        first, second = learner_forms(self.store, self.learner, cohort)
        tests = (f"<li>Pre-test (form {first}): {'done' if mine.pre_done else 'not done'}</li>"
                 f"<li>Post-test (form {second}): {'done' if mine.post_done else 'not done'}</li>")
        reminder = ""
        if not mine.pre_done:
            reminder = ('<p role="note"><strong>Before lesson 1, take the pre-test</strong>: open '
                        '<a href="10_pre_post.ipynb">10_pre_post</a> and answer its first part. It records '
                        "what you think now, so that you can see later how your thinking moved.</p>")
        self.progress.value = f"{reminder}<ul>{tests}{''.join(items)}</ul>"
        code = "none yet (self-study)" if cohort == identity.DEFAULT_COHORT else text(cohort)
        self.where.value = (
            f"<p>Your class code: <strong>{code}</strong>. Your answers are kept on this computer, in the "
            f"folder <strong>{text(_folder(self.store.url))}</strong>. Nothing leaves it until you download "
            "your answers and hand the file in.</p>"
            "<details><summary>Technical details (for your instructor or IT support)</summary>"
            f"<p>Answers store: <code>{text(self.store.url)}</code>; reflections store: "
            f"<code>{text(self.reflection_store.url)}</code>; learner id: <code>{text(self.learner)}</code>; "
            f"cohort: <code>{text(cohort)}</code>.</p></details>"
        )

    def _on_commit(self, _response=None) -> None:
        self.refresh()

    def _bundle(self) -> tuple[str, str]:
        bundle, count = learner_bundle(self.reflection_store, self.learner)
        if self.reflection_store is not self.store:
            # On a class service the answers are already with the instructor; the file holds
            # the reflections kept on this machine.
            count = 0
        self.status.say(f"Your download has started: {count} answer{'s' if count != 1 else ''} and your saved "
                        "reflections, in one file to hand in to your instructor.")
        return "my-answers.jsonl", bundle

    def _receipt(self) -> tuple[str, str]:
        rows = self.store.responses(learner=self.learner)
        reflections = self.reflection_store.reflections(learner=self.learner, kind="reflection")
        today = datetime.now(timezone.utc).date().isoformat()
        self.status.say("Your readable copy has started downloading: a page listing your answers and reflections.")
        return f"my-answers-{today}.html", receipt_html(rows, reflections, today)

    # -- actions ---------------------------------------------------------------------------------

    def _on_own_words_first(self, change) -> None:
        identity.save_settings(**{identity.OWN_WORDS_SETTING: bool(change["new"])})
        if change["new"]:
            self.status.say("From now on, a lesson case you open (or run again) first asks for your own answer in "
                            "words; then the options appear. Your own answer is saved at the start of your "
                            "reasoning. The pre- and post-test are unchanged.")
        else:
            self.status.say("Lesson cases you open from now on show their options at once.")

    def _on_cohort(self, _button=None) -> None:
        try:
            message = set_class_code(self.store, self.learner, self.cohort_input.value)
        except DualroleError as exc:
            self.status.say(str(exc), urgent=True)
            return
        self.refresh()
        self.status.say(message)

    def _on_erase(self, _button=None) -> None:
        self.confirm_erase.layout.display = None
        self.cancel_erase.layout.display = None
        self.status.say("This deletes every answer, reflection and consent record of yours in this store. "
                        "It cannot be undone. Download your answers first if you want to keep a copy.", urgent=True)

    def _on_cancel_erase(self, _button=None) -> None:
        self.confirm_erase.layout.display = "none"
        self.cancel_erase.layout.display = "none"
        self.status.say("Nothing was erased.")

    def _on_confirm_erase(self, _button=None) -> None:
        n = self.store.erase_learner(self.learner)
        if self.reflection_store is not self.store:
            self.reflection_store.erase_learner(self.learner)
        self.confirm_erase.layout.display = "none"
        self.cancel_erase.layout.display = "none"
        self.refresh()
        self.status.say(f"Erased {n} answer(s) and your reflections.")


def _local_reflections(store) -> ReflectionStore:
    """Reflections stay on this machine: the learner's own store, or a local one beside a class service."""
    if store.follows_class:
        return open_store()
    return store


class ReflectionBox(ipw.VBox):
    """A text box and a Save button for a lesson's reflection prompts: ``ReflectionBox("01_confidentiality")``.

    Saved text is kept in the learner's store (a new row each time; the latest is shown), exported
    in their bundle, and shown to their instructor once collected; never in a public report.
    """

    def __init__(self, lesson_stem: str, *, store: ReflectionStore | None = None):
        self.lesson = lesson(lesson_stem).stem
        self.store = store or open_store()
        self.learner = identity.learner_id()
        saved = self.store.reflections(learner=self.learner, lesson=self.lesson, kind="reflection")
        self.text = ipw.Textarea(value=saved[-1]["text"] if saved else "",
                                 placeholder="Write your reflection here. Only you and your instructor see it.",
                                 description="My reflection:", style={"description_width": "initial"},
                                 layout=ipw.Layout(width="100%", max_width="900px", height="140px"))
        # The click carries the box's text, so words typed just before Save are saved too (CommitButton).
        self.save = CommitButton(sources=[self.text], description="Save my reflection", button_style="primary")
        self.status = LiveStatus()
        self.save.on_click(self._on_save)
        super().__init__(children=[self.text, self.save, self.status])
        guarded(self)
        if saved:
            self.status.say("Your last saved reflection is shown.")

    def _on_save(self, _button=None) -> None:
        body = to_json(Reflection(learner=self.learner, cohort=identity.cohort(), lesson=self.lesson,
                                  text=self.text.value).row())
        reflection, problems = check_reflection(body, learner=self.learner)
        if problems:
            field, reason = next(iter(problems.items()))
            message = "Write something first." if field == "text" and "empty" in reason else f"{field}: {reason}"
            self.status.say(f"Not saved: {message}", urgent=True)
            return
        try:
            self.store.add_reflection(reflection)
        except Exception as exc:  # noqa: BLE001 - no save may fail silently: say so, and keep the text in the box
            reason = str(exc) if isinstance(exc, DualroleError) else "your answers file could not be written"
            self.status.say(f"Not saved: {reason}. Your text is still in the box; try again, or copy it "
                            "somewhere safe.", urgent=True)
            return
        self.status.say("Saved. It goes into your answers file when you download it, and nowhere else.")


def _folder(url: str) -> str:
    """The folder a store lives in, for a learner's eyes (a database URL is not for them)."""
    if url.startswith("sqlite:///"):
        return str(Path(url.removeprefix("sqlite:///")).parent).replace(str(Path.home()), "~", 1)
    return "your class's server"


_PHASES = {"practice": "Lesson case", "pre": "Pre-test", "post": "Post-test", "delayed": "Delayed post-test"}


def receipt_html(rows: list[dict], reflections: list[dict], day: str) -> str:
    """A page a student can read and keep: each answer (case, choice, confidence, reasoning) and each
    saved reflection, in plain words; the data file beside it is what the instructor's tools read."""
    library = load_library()
    items = []
    for row in rows:
        case = library.get(row["case_id"])
        title = case.title if case else row["case_id"]
        choice = case.option(row["option_id"]).label if case and row["option_id"] in case.option_ids \
            else row["option_id"]
        kind = _PHASES.get(row["phase"], row["phase"]) + (", revised answer" if row["attempt"] > 1 else "")
        items.append(f"<li><h3>{text(title)}</h3><p><em>{text(kind)}, {text(str(row['submitted_at'])[:10])}"
                     f"</em></p><p><strong>Your choice:</strong> {text(choice)} (confidence "
                     f"{int(row['confidence'])}%)</p><p><strong>Your reasoning:</strong> "
                     f"{text(row['justification'])}</p></li>")
    notes = "".join(f"<li><p><strong>{text(r['lesson'])}</strong></p><p>{text(r['text'])}</p></li>"
                    for r in reflections)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>My answers, {text(day)}</title></head><body>"
        f"<h1>My answers</h1><p>Downloaded on {text(day)}: {len(rows)} answer{'s' if len(rows) != 1 else ''} "
        f"and {len(reflections)} reflection{'s' if len(reflections) != 1 else ''}. This page is for you to read "
        "and keep; hand in the data file (my-answers.jsonl) as your instructor asks.</p>"
        f"<h2>Answers</h2><ol>{''.join(items) or '<li>None yet.</li>'}</ol>"
        f"<h2>Reflections</h2><ul>{notes or '<li>None yet.</li>'}</ul></body></html>"
    )
