"""Middle column: the customer file — who, flags, money, contact data, then the story."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.date_of_birth import masked_date_of_birth
from agent_desk.i18n import N_
from agent_desk.ui.dialogs.creditor import describe_signal
from agent_desk.ui.instalments import InstalmentsWidget
from agent_desk.ui.labels import (
    ARRANGEMENT_STATUS,
    CHANNEL_ICONS,
    CHANNELS,
    CONTACT_ICONS,
    CONTACT_KINDS,
    DIRECTIONS,
    NEXT_STEPS,
    OUTCOMES,
    PROMISE_STATUS,
    TIMES_OF_DAY,
    Words,
)
from agent_desk.ui.plain import ElidedLabel, PlainLabel, plain_tip

if TYPE_CHECKING:
    from agent_desk.services.customer_file import CustomerFile, TimelineItem

PHONE_KINDS = ("phone", "mobile", "landline")
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
#: A letter in the timeline says how it left: a saved PDF was not sent.
LETTER_DELIVERY: dict[str, str] = {
    "printed": N_("✉ {template} printed for the post"),
    "emailed": N_("✉ {template} e-mailed"),
    "saved": N_("✉ {template} saved, not sent"),
}
LETTER_KINDS: dict[str, str] = {
    "arrangement": N_("Arrangement confirmation"),
    "fourteen_day": N_("14-day letter"),
    "pause": N_("Pause confirmation"),
    "debt_help": N_("Debt-help referral"),
}


def _label(text: str = "", name: str = "", wrap: bool = False) -> QLabel:
    label = PlainLabel(text)
    if name:
        label.setObjectName(name)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _table(headers: list[str], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.verticalHeader().setDefaultSectionSize(28)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setShowGrid(False)
    table.setWordWrap(False)
    table.setAlternatingRowColors(True)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setHighlightSections(False)
    return table


class CustomerPanel(QStackedWidget):
    call_requested = Signal(str)  # a phone number clicked: hand it to the softphone

    def __init__(self, words: Words, clock: Callable[[], datetime]) -> None:
        super().__init__()
        self.setObjectName("customerPanel")
        self.words = words
        self.tr_ = words.tr
        self.clock = clock
        self.file: CustomerFile | None = None
        tr = self.tr_

        self.empty = _label(
            tr("No customer open. Press F8 for the next customer, or choose one in the queue."),
            "emptyState",
            wrap=True,
        )
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.addWidget(self.empty)

        page = QWidget()
        page.setObjectName("customerPage")
        # Name and number never push the column wider: elided, in full in the tooltip.
        self.name = ElidedLabel(minimum_chars=10)
        self.name.setObjectName("customerName")
        self.number = ElidedLabel(minimum_chars=8)
        self.number.setObjectName("customerNumber")
        # Date of birth: masked as "born ••-••-1981" by default. The year gives the
        # agent the customer's age at a glance (and spots a wrong person by decades),
        # while day and month, the part that makes it an identity check, stay hidden
        # from anyone looking over the shoulder (agents often work from home). The
        # agent compares in full where it is needed: beside the script's identity
        # question. "show" reveals it here for this customer only; the next file
        # starts masked again.
        self.born = _label(name="customerBorn")
        self.born_toggle = QPushButton()
        self.born_toggle.setObjectName("revealBirthDate")
        self.born_toggle.setFlat(True)
        self.born_toggle.setAutoDefault(False)
        self.born_toggle.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.born_toggle.setCursor(Qt.CursorShape.PointingHandCursor)
        self.born_toggle.clicked.connect(self._toggle_born)
        self.born_revealed = False
        self.badge_box = QWidget()
        self.badge_box.setObjectName("badgeBox")
        self.summary = _label(name="customerSummary", wrap=True)
        self.next_step = _label(name="customerNextStep", wrap=True)
        self.waiting = _label(name="waitingOffline", wrap=True)
        self.waiting.hide()
        self.contact_box = QWidget()
        self.contact_box.setObjectName("contactBox")
        self.claims = _table(
            [tr("Claim"), tr("Principal"), tr("Charges"), tr("Paid"), tr("Outstanding")],
            "claimsTable",
        )
        self.claims.setWordWrap(True)
        self.claims.setAccessibleName(tr("Claims"))
        # Amounts as wide as they are; the claim (reference and due date) gets the rest.
        for column in (1, 2, 3, 4):
            self.claims.horizontalHeader().setSectionResizeMode(
                column, QHeaderView.ResizeMode.ResizeToContents
            )
        self.claims.horizontalHeader().setStretchLastSection(False)
        self.claims.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.timeline = _table([tr("When"), tr("What happened"), tr("Note"), tr("By")], "timeline")
        # What happened and the note share what is left, so neither vanishes on a narrow panel.
        self._fit_columns(self.timeline, {0: 110, 3: 130}, stretch=(1, 2))
        self.timeline.setWordWrap(True)
        self.timeline.setAccessibleName(tr("Timeline, newest first"))
        # Rows grow to show wrapped text in full instead of eliding it.
        self.timeline.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # ... also after the columns changed width (the splitter moved, the window shrank).
        self.timeline.horizontalHeader().sectionResized.connect(
            lambda *_: self.timeline.resizeRowsToContents()
        )

        heading = QHBoxLayout()
        heading.addWidget(self.name, 1)
        heading.addWidget(self.number)
        heading.addWidget(self.born)
        heading.addWidget(self.born_toggle)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(14, 12, 14, 8)
        layout.setSpacing(8)
        layout.addLayout(heading)
        layout.addWidget(self.badge_box)  # a line of its own: it must not widen the heading
        layout.addWidget(self.summary)
        layout.addWidget(self.next_step)
        layout.addWidget(self.waiting)
        layout.addWidget(self._rule())
        layout.addWidget(_label(tr("Contact details"), "sectionTitle"))
        layout.addWidget(self.contact_box)
        layout.addWidget(_label(tr("Claims"), "sectionTitle"))
        layout.addWidget(self.claims)
        self.instalments = InstalmentsWidget(words, clock)
        layout.addWidget(self.instalments)
        layout.addWidget(_label(tr("Timeline, newest first"), "sectionTitle"))
        layout.addWidget(self.timeline, 1)
        # On a short screen the file scrolls instead of making the window taller.
        self.file_scroll = QScrollArea()
        self.file_scroll.setObjectName("customerScroll")
        self.file_scroll.setWidgetResizable(True)
        self.file_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.file_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.file_scroll.setWidget(page)
        page.setMinimumHeight(560)
        self.addWidget(self.file_scroll)
        self.page = page

    @staticmethod
    def _fit_columns(table: QTableWidget, widths: dict[int, int], stretch: tuple[int, ...]) -> None:
        """Fixed widths for the short columns; the ones that hold text share the rest."""
        header = table.horizontalHeader()
        header.setStretchLastSection(False)
        for column, width in widths.items():
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            table.setColumnWidth(column, width)
        for column in stretch:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)

    @staticmethod
    def _rule() -> QFrame:
        line = QFrame()
        line.setObjectName("rule")
        line.setFrameShape(QFrame.Shape.HLine)
        return line

    def clear(self) -> None:
        self.file = None
        self.setCurrentWidget(self.empty)

    def show_file(self, file: CustomerFile) -> None:
        if self.file is None or self.file.id != file.id:
            self.born_revealed = False
        self.file = file
        tr, words = self.tr_, self.words
        self.name.setText(file.name)
        # The name is what the agent says first: it keeps its room; the number gives way.
        self.name.set_minimum_chars(min(len(file.name), 20))
        self.number.setText(tr("customer {number}", number=file.customer_number))
        self._fill_born(file)
        self._fill_badges(file)
        # The booked figure, as the queue shows it; interest since the last booking apart.
        parts = [tr("Arrears {amount}", amount=words.money(file.arrears_cents))]
        if file.owed_cents > file.arrears_cents:
            parts.append(
                tr(
                    "+ {amount} interest to date",
                    amount=words.money(file.owed_cents - file.arrears_cents),
                )
            )
        if file.credit_cents:
            parts.append(tr("credit {amount}", amount=words.money(file.credit_cents)))
        if file.days_past_due:
            days = file.days_past_due
            parts.append(tr.n("{days} day past due", "{days} days past due", days, days=days))
        open_claims = sum(1 for c in file.claims if c.outstanding_cents > 0)
        parts.append(tr.n("{count} open claim", "{count} open claims", open_claims))
        if file.best_time:
            parts.append(tr("best reached {time}", time=words.code(TIMES_OF_DAY, file.best_time)))
        self.summary.setText("  ·  ".join(parts))
        if file.next_step_kind:
            when = words.moment(file.next_step_due_at) if file.next_step_due_at else ""
            step = f"{words.code(NEXT_STEPS, file.next_step_kind)} {when}".strip()
            self.next_step.setText(tr("Next step: {step}", step=step))
        else:
            self.next_step.setText(tr("Next step: none yet — choose one when you log the contact."))
        self._fill_contacts(file)
        self._fill_claims(file)
        self.instalments.show_arrangements(file.arrangements)
        self._fill_timeline(file.timeline)
        self.setCurrentWidget(self.file_scroll)

    def _fill_born(self, file: CustomerFile) -> None:
        """The date of birth line (see ``__init__`` for why it is masked)."""
        tr, born = self.tr_, file.date_of_birth
        self.born.setVisible(born is not None)
        self.born_toggle.setVisible(born is not None)
        if born is None:
            return
        shown = born.strftime("%d-%m-%Y") if self.born_revealed else masked_date_of_birth(born)
        self.born.setText(tr("born {date}", date=shown))
        self.born_toggle.setText(tr("hide") if self.born_revealed else tr("show"))
        self.born_toggle.setToolTip(
            tr("Hide the date of birth again")
            if self.born_revealed
            else tr("Show the full date of birth (only while this customer is open)")
        )

    def _toggle_born(self) -> None:
        if self.file is None:
            return
        self.born_revealed = not self.born_revealed
        self._fill_born(self.file)

    def show_waiting(self, items: list[str]) -> None:
        """What the agent saved for this customer while offline and is not yet sent."""
        if not items:
            self.waiting.hide()
            return
        self.waiting.setText(
            self.tr_(
                "↑ Saved on this computer, not yet sent: {items}. It is sent when the "
                "connection is back.",
                items=", ".join(items),
            )
        )
        self.waiting.show()

    @staticmethod
    def _replace(old: QWidget, new: QWidget) -> QWidget:
        """Swap a whole box of widgets (rebuilding in place trips PySide's refcounts)."""
        parent = old.parentWidget()
        layout = parent.layout() if parent is not None else None
        if layout is not None:
            layout.replaceWidget(old, new)
        old.hide()
        old.deleteLater()
        new.setObjectName(old.objectName())
        return new

    def _fill_badges(self, file: CustomerFile) -> None:
        box = QWidget()
        badges = QHBoxLayout(box)
        badges.setContentsMargins(0, 0, 0, 0)
        badges.setSpacing(6)
        tr, words = self.tr_, self.words
        found: list[tuple[str, str, str]] = []
        if file.first_time_arrears:
            found.append(("⚑", tr("first-time arrears"), "info"))
        if file.vulnerable:
            found.append(("♥", tr("vulnerable: take care"), "care"))
        if file.paused_until and file.paused_until >= self.clock().date():
            found.append(
                ("⏸", tr("paused until {date}", date=words.day(file.paused_until)), "info")
            )
        if file.debt_help_referred_at:
            found.append(("➜", tr("referred to debt help"), "info"))
        if file.broken_arrangement:
            found.append(("⚠", tr("broken arrangement"), "warn"))
        elif file.missed_instalment:
            found.append(("⚠", tr("missed instalment"), "warn"))
        for icon, text, tone in found:
            badge = PlainLabel(f"{icon} {text}")
            badge.setObjectName("badge")
            badge.setProperty("tone", tone)
            if tone == "care" and file.vulnerability_note:
                badge.setToolTip(plain_tip(file.vulnerability_note))
            if file.pause_reason and icon == "⏸":
                badge.setToolTip(plain_tip(file.pause_reason))
            badges.addWidget(badge)
        self.badge_box = self._replace(self.badge_box, box)

    def _fill_contacts(self, file: CustomerFile) -> None:
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(4)
        tr, now = self.tr_, self.clock()
        for row, point in enumerate(file.contact_points):
            icon = CONTACT_ICONS.get(point.kind, "•")
            kind = self.words.code(CONTACT_KINDS, point.kind)
            if point.preferred:
                kind = tr("{kind} (preferred)", kind=kind)
            fresh, stale = self.words.freshness(point.verified_at, now)
            if point.invalid:
                fresh, stale = tr("marked invalid"), True
            # The value must be read (and dialled): it wraps; the freshness gives way.
            state = ElidedLabel(f"{'⚠' if stale else '✓'} {fresh}", minimum_chars=6)
            state.setObjectName("freshness")
            state.setProperty("stale", "true" if stale else "false")
            grid.addWidget(_label(f"{icon}  {kind}", "contactKind"), row, 0)
            value = _label(point.value, "contactValue", wrap=True)
            value.setMinimumWidth(min(value.sizeHint().width(), 140))
            grid.addWidget(value, row, 1)
            if point.kind in PHONE_KINDS and not point.invalid:
                call = QPushButton(tr("☎ Call"))
                call.setObjectName("callButton")
                call.setAutoDefault(False)
                call.setFlat(True)
                call.setCursor(Qt.CursorShape.PointingHandCursor)
                call.setToolTip(plain_tip(tr("Call {number} (Ctrl+D)", number=point.value)))
                call.setAccessibleName(tr("Call {number}", number=point.value))
                call.clicked.connect(lambda _c=False, n=point.value: self.call_requested.emit(n))
                grid.addWidget(call, row, 3)
            grid.addWidget(state, row, 2)
        grid.setColumnStretch(1, 1)
        self.contact_box = self._replace(self.contact_box, box)

    def phone_to_call(self) -> str | None:
        """The preferred usable phone number, else the first usable one."""
        if self.file is None:
            return None
        phones = [p for p in self.file.contact_points if p.kind in PHONE_KINDS and not p.invalid]
        phones.sort(key=lambda p: not p.preferred)
        return phones[0].value if phones else None

    def _fill_claims(self, file: CustomerFile) -> None:
        words = self.words
        self.claims.setRowCount(len(file.claims))
        for row, claim in enumerate(file.claims):
            title = claim.reference + "\n" + self.tr_("due {day}", day=words.day(claim.due_date))
            charges = claim.costs_cents + claim.interest_cents
            cells = [
                title,
                words.money(claim.principal_cents),
                words.money(charges) if charges else "—",
                words.money(claim.paid_cents),
                words.money(claim.outstanding_cents),
            ]
            # What the charges are, in words the agent can say on the phone.
            tip = self.tr_(
                "Costs {costs} (owed only after a 14-day letter ran out unpaid); statutory "
                "interest {interest} (from the day after the due date).",
                costs=words.money(claim.costs_cents),
                interest=words.money(claim.interest_cents),
            )
            if not claim.in_default:
                tip = self.tr_("Not yet in arrears: due {day}.", day=words.day(claim.due_date))
            if claim.description:
                tip = f"{claim.description}. {tip}"
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(plain_tip(tip))
                if column >= 1:
                    item.setTextAlignment(RIGHT)
                self.claims.setItem(row, column, item)
        self.claims.resizeRowsToContents()
        visible = min(max(len(file.claims), 1), 4)
        rows = sum(self.claims.rowHeight(r) for r in range(min(visible, len(file.claims))))
        self.claims.setFixedHeight(self.claims.horizontalHeader().height() + max(rows, 28) + 4)

    def _fill_timeline(self, items: tuple[TimelineItem, ...]) -> None:
        from agent_desk.ui.audit_words import readable_detail

        self.timeline.setRowCount(len(items))
        for row, item in enumerate(items):
            detail = (
                item.detail if item.kind == "note" else readable_detail(self.words, item.detail)
            )
            cells = [self.words.moment(item.at), self.describe(item), detail, item.agent or ""]
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                if column in (1, 2) and text:
                    cell.setToolTip(plain_tip(text))
                self.timeline.setItem(row, column, cell)

    def describe(self, item: TimelineItem) -> str:
        """One line in words for a timeline entry."""
        tr, words = self.tr_, self.words
        values = item.values
        if item.kind == "contact":
            channel = values.get("channel", "")
            return tr(
                "{icon} {direction} {channel}: {outcome}",
                icon=CHANNEL_ICONS.get(channel, "•"),
                direction=words.code(DIRECTIONS, values.get("direction")),
                channel=words.code(CHANNELS, channel),
                outcome=words.code(OUTCOMES, item.summary),
            )
        if item.kind == "promise":
            amount = words.money(int(values.get("amount_cents", "0")))
            due = words.day(date.fromisoformat(values["due_date"])) if "due_date" in values else ""
            message = PROMISE_STATUS.get(item.summary, PROMISE_STATUS["open"])
            return "€ " + tr(message, amount=amount, date=due)
        if item.kind == "arrangement":
            total = words.money(int(values.get("total_cents", "0")))
            status = words.code(ARRANGEMENT_STATUS, item.summary)
            return tr(
                "{status}: {total} in {count} instalments",
                status=status,
                total=total,
                count=values.get("instalments", "?"),
            )
        if item.kind == "letter":
            delivery = values.get("delivery", "printed")
            message = LETTER_DELIVERY.get(delivery, LETTER_DELIVERY["printed"])
            return tr(message, template=words.code(LETTER_KINDS, item.summary))
        if item.kind == "note":
            return tr("✎ note")
        if item.kind == "pause":
            if item.summary.startswith("until "):
                until = date.fromisoformat(item.summary.removeprefix("until "))
                return tr("⏸ collection paused until {date}", date=words.day(until))
            return tr("▶ pause ended")
        if item.kind == "signal":
            return describe_signal(tr, words, item)
        if item.kind == "credit" and "amount_cents" in values:
            on = values.get("on", "")
            return tr(  # starts with the amount, so with the € the other money lines show
                "{amount} credit settled {claims} ({date})",
                amount=words.money(int(values["amount_cents"])),
                claims=values.get("claims") or "?",
                date=words.day(date.fromisoformat(on)) if len(on) == 10 else "?",
            )
        if item.kind == "message":  # issue 14: e-mail and SMS with their status
            from agent_desk.ui.dialogs.send_message import describe_message

            return describe_message(tr, item.summary, values)
        from agent_desk.ui.audit_words import readable_detail

        return readable_detail(words, item.summary)  # never raw machine data
