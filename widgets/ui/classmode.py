"""Class mode in a learner's card: follow the instructor's pacing, and say when an answer or a script waits to sync.

A :class:`CaseCard` whose store is the class service gets a :class:`ClassFollower`. The follower
keeps the stage of the card's :class:`~widgets.learner.session.CaseSession` up to date (the session
asks :mod:`widgets.responses.pacing` what that stage allows), adds a class-histogram panel,
and re-renders the card when the stage changes. One :class:`_Watcher` per kernel and cohort polls
the service every few seconds on an asyncio task and also sends what waits in the outbox.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

import ipywidgets as ipw

from widgets.cases.library import Case
from widgets.exchange.outbox import entry_id
from widgets.learner.client import ServiceClient, ServiceRefused, ServiceUnavailable
from widgets.render import text
from widgets.responses.disclosure import MIN_CLASS, Distribution, distribution, distribution_html
from widgets.responses.pacing import SELF_PACED, UNKNOWN

log = logging.getLogger("dualrole.classmode")

POLL_SECONDS = 3.0

PENDING = "Saved on this machine, will sync with the class service when it is back."
SCRIPT_PENDING = "Your words are saved on this machine, will sync with the class service when it is back."
SCRIPT_SENT = "Your words saved while the class service was away have reached it."
_WAITING = {
    UNKNOWN: "Saved. Waiting to reach the class service.",
    "waiting": "Saved. Waiting for your instructor to open this case.",
    "voting": "Saved. The class histogram and the reference appear when your instructor shows them.",
    "closed": "Saved. Voting is closed; the class histogram appears when your instructor shows it.",
    "histogram": "Saved. Here is how the class voted. Discuss it; your instructor may open a revote.",
    "revote": "The revote is open: you may change your answer once. It is saved as your second attempt.",
}
_REVOTED = "Your revised answer is saved. The reference appears when your instructor reveals it."
UNKNOWN_ANSWERS = ("The class service cannot be reached just now, so this card cannot tell whether you "
                   "answered this case before. If you did, your answer is safe on the service and appears "
                   "here as soon as it is back; an answer given again now would be set aside as a duplicate.")


def refusal_html(case_title: str, entry: dict) -> str:
    """What a learner is told, once, about an answer or script the class service would not record."""
    words = "script" in entry
    if words:
        which = "your words (what you would say)"
    else:
        which = "your revised answer" if entry["response"].get("attempt") == 2 else "your answer"
    if entry.get("code") == "already_answered":
        why = ("the class service already had an answer from you for that attempt (given in another tab "
               "or kernel), and that one stands")
    else:
        why = f"the class service refused {'them' if words else 'it'}: {entry.get('reason', 'no reason given')}"
    was, it = ("were", "they are") if words else ("was", "it is")
    return (f'<p role="alert">{which.capitalize()} to <em>{text(case_title)}</em>, kept on this machine while '
            f"the class service was away, {was} not recorded: {text(why)}. Nothing is lost: {it} kept in "
            "<code>outbox-refused.jsonl</code> in your data folder. Your other answers were sent.</p>")


def histogram_html(case: Case, shown: Distribution, first_round: bool) -> str:
    """The class's answers as a learner's card shows them in class mode, without reference marks."""
    which = "first votes" if first_round else "latest answers"
    return distribution_html({o.id: o.label for o in case.options}, shown, heading="How the class voted",
                             caption=f"{shown.total} learners, {which}")


class ClassFollower:
    """Keeps one card in step with the class service: pacing, the histogram and the outbox."""

    def __init__(self, card, client: ServiceClient, *, interval: float = POLL_SECONDS):
        self.card = card
        self.client = client
        self.case_id = card.case.id
        self.panel = ipw.HTML(layout=ipw.Layout(width="100%", max_width="900px"))
        # What the learner must know about the service itself: answers it would not record, or that
        # it cannot say now whether this case was answered before.
        self.notice = ipw.HTML(layout=ipw.Layout(width="100%", max_width="900px"))
        self._answered: int | None = None
        self._showing_pending = False
        self._script_waiting: str | None = None  # the script_id of words saved to the outbox
        card.session.class_stage = UNKNOWN
        card.children = (*card.children, self.notice, self.panel)
        self.watcher = _Watcher.get(client, card.session.cohort, card.session.phase, interval)
        self.watcher.add(self)
        # The first view already follows the class: learn the stage before the card first renders.
        data, reachable = self.watcher.fetch()
        # How much feedback the service has released on this case to this learner: when it grows,
        # the card's feedback panel reads it again (at the next poll, with no rerun of the cell).
        self._feedback = (data or {}).get("feedback", {}).get(self.case_id, 0)
        self.apply((data or {}).get("cases", {}).get(self.case_id), reachable, render=False)
        self.watcher.tell_refusals()

    def feedback_released(self, count: int) -> None:
        """Take the latest count of feedback released on this case; show it when it changed."""
        if count != self._feedback:
            self._feedback = count
            self.card.feedback.refresh()

    @property
    def answers_known(self) -> bool:
        """Whether the card's last read of the learner's answers reached the service."""
        s = self.card.session
        # Asked with the filters the session reads with: a learner's answers count whatever the class code.
        return self.client.answers_known(learner=s.learner, case_id=self.case_id, phase=s.phase)

    def apply(self, info: dict | None, reachable: bool, render: bool = True) -> None:
        """Take the latest word from the service (``info`` is None for a self-paced case)."""
        if reachable:
            stage = SELF_PACED if info is None else info["stage"]
        else:
            stage = self.card.session.class_stage  # keep the last known stage while the service is away
        answered = (info or {}).get("answered")
        if reachable and self._script_waiting and not self.client.is_script_pending(self._script_waiting):
            self._script_waiting = None
            self.card.say_status.say(SCRIPT_SENT)
        if reachable and not self.answers_known:
            # The card was built (or last read) while the service was away: read the answers again.
            self.card.session.resume()
            if render:
                self.card.session.class_stage = stage
                self._answered = answered
                self.card._show_state()
                return
        if not render:
            self.card.session.class_stage, self._answered = stage, answered
        elif stage != self.card.session.class_stage or (self._showing_pending and not self._latest_pending()):
            self.card.session.class_stage = stage
            self._answered = answered
            self.card.session.resume()  # an answer that waited may have been set aside, not recorded
            self.card._show_state()  # re-render; calls update_card at its end
        elif reachable and answered != self._answered:  # late answers arrived: redraw the histogram
            self._answered = answered
            self.update_card()

    def update_card(self) -> None:
        """Amend the card's status and histogram for class mode (the card calls this after rendering)."""
        s = self.card.session
        self._showing_pending = pending = self._latest_pending()
        unknown = self.answers_known is False
        if unknown and not s.committed:
            self.notice.value = f'<p role="status">{text(UNKNOWN_ANSWERS)}</p>'
        elif self.notice.value.startswith('<p role="status">'):
            self.notice.value = ""
        if not s.committed:
            self.panel.value = ""
            return
        if pending:
            _say(self.card, PENDING + (" The reference is shown below." if s.reveal_released else ""))
        elif self.card.session.paced and not s.reveal_released:
            _say(self.card, _REVOTED if s.changed and self.card.session.class_stage == "revote"
                 else _WAITING.get(self.card.session.class_stage, _WAITING[UNKNOWN]))
        self.panel.value = self._histogram() if self.card.session.class_stage in ("histogram", "revote") else ""

    def script_waiting(self, script_id: str) -> bool:
        """Whether words just saved wait in the outbox; if so the learner is told when they are sent."""
        if self.client.is_script_pending(script_id):
            self._script_waiting = script_id
            return True
        return False

    def _latest_pending(self) -> bool:
        s = self.card.session
        return s.committed and self.client.is_pending(s.latest["response_id"])

    def _histogram(self) -> str:
        s = self.card.session
        try:
            data = self.client.distribution(self.case_id, s.cohort, s.phase)
        except (ServiceUnavailable, ServiceRefused):
            return self.panel.value  # keep what was shown
        shown = distribution(data.get("counts") or {}, self.card.case.option_ids, "class",
                             min_class=data.get("min_class") or MIN_CLASS, total=data.get("total", 0))
        return histogram_html(self.card.case, s.saw(shown), data.get("round") == "first")


def _say(card, message: str) -> None:
    """Put a message in the card's status line, which announces it to screen readers."""
    card.status.say(message)


class _Watcher:
    """One poller per kernel, service and cohort: one request every few seconds for all its cards."""

    _all: dict[tuple, "_Watcher"] = {}

    @classmethod
    def get(cls, client: ServiceClient, cohort: str, phase: str, interval: float) -> "_Watcher":
        key = (id(client), cohort, phase)
        if key not in cls._all:
            cls._all[key] = cls(client, cohort, phase, interval)
        return cls._all[key]

    def __init__(self, client: ServiceClient, cohort: str, phase: str, interval: float):
        self.client = client
        self.cohort = cohort
        self.phase = phase
        self.interval = interval
        self.followers: weakref.WeakSet[ClassFollower] = weakref.WeakSet()
        self.task: asyncio.Task | None = None

    def add(self, follower: ClassFollower) -> None:
        self.followers.add(follower)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop (plain Python, tests): call poll_now() to follow the class
        if self.task is None or self.task.done():
            self.task = loop.create_task(self._run())

    def fetch(self) -> tuple[dict | None, bool]:
        """Send what waits in the outbox, then read every paced case of the cohort.

        Never raises: a poll that fails in any way counts as "not reachable" and the next one tries
        again, so neither the poller nor a card being built can be stopped by what the outbox holds.
        """
        try:
            if self.client.offline and not self.client.reconnect():
                return None, False
            if self.client.outbox.pending() or self.client.outbox.pending_scripts():
                self.client.flush()
            return self.client.class_states(self.cohort, self.phase), True
        except (ServiceUnavailable, ServiceRefused) as exc:
            log.debug("class service not reachable: %s", exc)
        except Exception:  # noqa: BLE001 -- logged; the poller must outlive anything one poll meets
            log.exception("polling the class service failed")
        return None, False

    def tell_refusals(self) -> None:
        """Tell the learner, once, of each answer the service would not record: on the card of its
        case when one is open in this kernel, else on the first card."""
        followers = list(self.followers)
        if not followers:
            return
        try:
            untold = self.client.outbox.untold()
        except OSError:
            log.exception("could not read the refused answers")
            return
        for entry in untold:
            case_id = (entry.get("script") or entry["response"]).get("case_id")
            target = next((f for f in followers if f.case_id == case_id), followers[0])
            title = target.card.case.title if target.case_id == case_id else str(case_id)
            target.notice.value = (target.notice.value if target.notice.value.startswith('<p role="alert">')
                                   else "") + refusal_html(title, entry)
            self.client.outbox.mark_told(entry_id(entry))

    def dispatch(self, data: dict | None, reachable: bool) -> None:
        cases = (data or {}).get("cases", {})
        feedback = (data or {}).get("feedback", {})
        for follower in list(self.followers):
            try:
                follower.apply(cases.get(follower.case_id), reachable)
                if reachable:
                    follower.feedback_released(feedback.get(follower.case_id, 0))
            except Exception:  # one broken card must not stop the others following
                log.exception("could not update the card for %s", follower.case_id)
        try:
            self.tell_refusals()
        except Exception:  # noqa: BLE001 -- logged; telling must not stop the poller
            log.exception("could not tell the learner of a refused answer")

    def poll_now(self) -> None:
        """Poll once, synchronously (what the asyncio task does every few seconds)."""
        self.dispatch(*self.fetch())

    async def _run(self) -> None:
        while len(self.followers):
            await asyncio.sleep(self.interval)
            data, reachable = await asyncio.to_thread(self.fetch)
            self.dispatch(data, reachable)


def follow_service(card, interval: float | None = None) -> ClassFollower | None:
    """A follower for ``card`` when its store is the class service; None for a local store."""
    if not card.store.follows_class:
        return None
    return ClassFollower(card, card.store, interval=interval or POLL_SECONDS)
