"""F7's contact pages: one card per phone number, e-mail address or postal address.

Each card shows the detail, how fresh it is and what was decided, with the buttons to
decide (still right / correct / no longer right / would not say) and the inline editor;
below the cards, a row to add one the customer states. The page builds widgets and
reports clicks to the dialog's callbacks; the flow decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from agent_desk.domain.verification import ContactKind, Decision, ItemView, VerificationFlow
from agent_desk.domain.verification_pages import ADD_KINDS, can_refuse_all
from agent_desk.i18n import N_, Translator
from agent_desk.ui.labels import CONTACT_ICONS, CONTACT_KINDS, Words
from agent_desk.ui.plain import PlainLabel

__all__ = ["ADDRESS_PARTS", "DECISIONS", "ContactPage", "Editor", "inputs", "text_label"]

DECISIONS: dict[Decision, str] = {
    Decision.CONFIRMED: N_("✓ confirmed"),
    Decision.CORRECTED: N_("✎ corrected to {value}"),
    Decision.ADDED: N_("+ new: {value}"),
    Decision.MARKED_INVALID: N_("✗ no longer right: {reason}"),
    Decision.REFUSED: N_("— the customer would not say"),
}
ADDRESS_PARTS = (
    ("street", N_("Street")),
    ("house_number", N_("House number")),
    ("postcode", N_("Postcode")),
    ("city", N_("Town or city")),
)
Typed = dict[tuple[int, str], str]


@dataclass
class Editor:
    """Inline inputs for one item (correct / reason / add) and their error line."""

    fields: dict[str, QLineEdit]
    error: QLabel
    box: QWidget


def text_label(text: str, name: str = "") -> QLabel:
    label = PlainLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if name:
        label.setObjectName(name)
    return label


def inputs(
    tr: Translator, typed: Typed, handle: int, mode: str, parts: list[tuple[str, str]]
) -> Editor:
    """Labelled inputs whose text is kept in ``typed`` (so a re-render keeps it)."""
    box = QWidget()
    grid = QGridLayout(box)
    grid.setContentsMargins(0, 4, 0, 0)
    grid.setHorizontalSpacing(8)
    grid.setVerticalSpacing(4)
    fields: dict[str, QLineEdit] = {}
    for row, (name, label) in enumerate(parts):
        edit = QLineEdit()
        edit.setObjectName(f"{mode}_{name}")
        key = (handle, f"{mode}:{name}")
        edit.setText(typed.get(key, ""))
        edit.textChanged.connect(lambda text, k=key: typed.__setitem__(k, text))
        caption = PlainLabel(tr(label))
        caption.setBuddy(edit)
        grid.addWidget(caption, row, 0)
        grid.addWidget(edit, row, 1)
        fields[name] = edit
    grid.setColumnStretch(1, 1)
    error = text_label("", "fieldError")
    error.hide()
    grid.addWidget(error, len(parts), 1)
    return Editor(fields, error, box)


@dataclass(frozen=True)
class ItemActions:
    """What the page's buttons ask the dialog to do."""

    decide: Callable[[str, int], None]  # confirm / correct / invalid / refuse, handle
    undo: Callable[[int], None]
    apply: Callable[[int, ContactKind, str], None]  # handle, kind, correct | invalid
    add: Callable[[], None]
    refuse_all: Callable[[], None]


class ContactPage:
    """Builds the flow's current contact page; keeps its editors and error lines."""

    def __init__(
        self,
        words: Words,
        flow: VerificationFlow,
        typed: Typed,
        open_editor: tuple[int, str] | None,
        actions: ItemActions,
    ) -> None:
        self.words, self.tr_, self.flow = words, words.tr, flow
        self.typed, self.open_editor, self.actions = typed, open_editor, actions
        self.editors: dict[int, Editor] = {}
        self.item_errors: dict[int, QLabel] = {}
        self.add_kind = QComboBox()

    def kind_word(self, kind: ContactKind) -> str:
        return self.words.code(CONTACT_KINDS, kind.value)

    def widgets(self) -> list[QWidget]:
        """The page's widgets, top to bottom."""
        tr = self.tr_
        items = self.flow.items()
        shown: list[QWidget] = []
        if not items:
            shown.append(
                text_label(tr("We have nothing on file here. Ask if there is one to add."), "hint")
            )
        shown.extend(self._item_widget(view) for view in items)
        shown.append(self._add_widget())
        if can_refuse_all(items):
            refuse_all = QPushButton(tr("The customer will not go through these"))
            refuse_all.setObjectName("refuseAll")
            refuse_all.setAutoDefault(False)
            refuse_all.clicked.connect(self.actions.refuse_all)
            row = QHBoxLayout()
            row.addStretch(1)
            row.addWidget(refuse_all)
            holder = QWidget()
            holder.setLayout(row)
            shown.append(holder)
        return shown

    def _item_widget(self, view: ItemView) -> QWidget:
        tr, words, actions = self.tr_, self.words, self.actions
        frame = QFrame()
        frame.setObjectName("contactItem")
        frame.setProperty("handle", view.handle)
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        head = QHBoxLayout()
        icon = CONTACT_ICONS.get(view.kind.value, "•")
        value = view.current_value or view.new_value or ""
        head.addWidget(text_label(f"{icon}  {self.kind_word(view.kind)}", "contactKind"))
        head.addWidget(text_label(value, "itemValue"), 1)
        original = next((p for p in self.flow.points if p.id == view.handle), None)
        if original is not None:
            fresh, stale = words.freshness(original.verified_at, self.flow.now)
            state = text_label(f"{'⚠' if stale else '✓'} {fresh}", "freshness")
            state.setWordWrap(False)
            state.setProperty("stale", "true" if view.stale else "false")
            head.addWidget(state)
        layout.addLayout(head)
        if view.decision is not None:
            decided = tr(
                DECISIONS[view.decision], value=view.new_value or "", reason=view.reason or ""
            )
            row = QHBoxLayout()
            row.addWidget(text_label(decided, "itemState"), 1)
            undo = QPushButton(tr("Undo"))
            undo.setObjectName("undoButton")
            undo.setAutoDefault(False)
            undo.clicked.connect(lambda _c=False, h=view.handle: actions.undo(h))
            row.addWidget(undo)
            layout.addLayout(row)
        else:
            buttons = QHBoxLayout()
            for name, text in (
                ("confirm", tr("Still right")),
                ("correct", tr("Correct…")),
                ("invalid", tr("No longer right…")),
                ("refuse", tr("Would not say")),
            ):
                button = QPushButton(text)
                button.setObjectName(f"{name}Button")
                button.setAutoDefault(False)
                button.clicked.connect(lambda _c=False, n=name, h=view.handle: actions.decide(n, h))
                buttons.addWidget(button)
            buttons.addStretch(1)
            layout.addLayout(buttons)
            if self.open_editor is not None and self.open_editor[0] == view.handle:
                layout.addWidget(self._editor(view.handle, view.kind, self.open_editor[1]))
        error = text_label("", "fieldError")
        error.hide()
        layout.addWidget(error)
        self.item_errors[view.handle] = error
        return frame

    @staticmethod
    def _value_parts(kind: ContactKind) -> list[tuple[str, str]]:
        if kind is ContactKind.ADDRESS:
            return list(ADDRESS_PARTS)
        label = {
            ContactKind.EMAIL: N_("New e-mail address"),
            ContactKind.MOBILE: N_("New mobile number"),
            ContactKind.PHONE: N_("New phone number"),
        }[kind]
        return [("value", label)]

    def _editor(self, handle: int, kind: ContactKind, mode: str) -> QWidget:
        tr, apply_ = self.tr_, self.actions.apply
        if mode == "correct":
            editor = inputs(tr, self.typed, handle, mode, self._value_parts(kind))
            apply_text = tr("Use this")
        else:
            parts = [("reason", N_("Why (e.g. number not in use)"))]
            editor = inputs(tr, self.typed, handle, mode, parts)
            apply_text = tr("Mark as no longer right")
        apply = QPushButton(apply_text)
        apply.setObjectName(f"{mode}Apply")
        apply.setAutoDefault(False)
        apply.clicked.connect(lambda _c=False: apply_(handle, kind, mode))
        for edit in editor.fields.values():
            edit.returnPressed.connect(lambda: apply_(handle, kind, mode))
        grid = editor.box.layout()
        assert isinstance(grid, QGridLayout)
        grid.addWidget(apply, grid.rowCount(), 1, Qt.AlignmentFlag.AlignLeft)
        self.editors[handle] = editor
        return editor.box

    def _add_widget(self) -> QWidget:
        tr = self.tr_
        kinds = ADD_KINDS[self.flow.step]
        frame = QFrame()
        frame.setObjectName("addItem")
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(text_label(tr("Add one the customer states"), "sectionTitle"))
        add_kind = self.add_kind
        add_kind.setObjectName("addKind")
        for kind in kinds:
            add_kind.addItem(self.kind_word(kind), kind.value)
        key = (0, "add:kind")
        if key in self.typed:
            add_kind.setCurrentIndex(max(add_kind.findData(self.typed[key]), 0))
        add_kind.currentIndexChanged.connect(
            lambda _i: self.typed.__setitem__(key, str(add_kind.currentData()))
        )
        add_kind.setVisible(len(kinds) > 1)
        parts = (
            list(ADDRESS_PARTS)
            if kinds[0] is ContactKind.ADDRESS
            else [("value", N_("Number") if kinds[0] is not ContactKind.EMAIL else N_("Address"))]
        )
        editor = inputs(tr, self.typed, 0, "add", parts)
        add = QPushButton(tr("Add"))
        add.setObjectName("addButton")
        add.setAutoDefault(False)
        add.clicked.connect(self.actions.add)
        for edit in editor.fields.values():
            edit.returnPressed.connect(self.actions.add)
        grid = editor.box.layout()
        assert isinstance(grid, QGridLayout)
        row = QHBoxLayout()
        row.addWidget(add_kind)
        row.addWidget(add)
        row.addStretch(1)
        grid.addLayout(row, grid.rowCount(), 1)
        self.editors[0] = editor
        layout.addWidget(editor.box)
        return frame
