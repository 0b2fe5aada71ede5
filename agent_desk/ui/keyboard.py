"""One set of keyboard and accessibility rules for every dialog (see docs/keyboard.md).

``DeskConventions`` is installed once on the application (``install``). When a dialog
is shown it

- puts the focus on the first input (never on a button: a note typed at once must
  land in the note, and one Enter must not agree a default plan);
- gives every button a mnemonic (Alt+letter) that does not clash within the dialog;
- makes Tab leave multi-line text fields (Ctrl+Tab inserts a tab);
- gives every control an accessible name, from its form label, buddy, text,
  placeholder or tooltip (``name_controls``).

And for keys, in any dialog:

- **Ctrl+Enter** presses the dialog's primary button (Save, Agree, Send…);
- **Enter** in a single-line field moves to the next field: it never saves, so nothing
  half-typed is sent. A field marked ``enter_submits(widget)`` (a search box, the
  password of the sign-in) keeps Enter for itself;
- **Esc** cancels (Qt's own, kept).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from PySide6.QtCore import SIGNAL, QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QBoxLayout,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSlider,
    QTextEdit,
    QWidget,
)

ENTER_SUBMITS = "agentDeskEnterSubmits"
PRIMARY = "agentDeskPrimary"
APPLIED = "agentDeskConventions"

#: Widgets a person types into or chooses in: the first of them gets the focus.
INPUTS = (QLineEdit, QPlainTextEdit, QTextEdit, QComboBox, QAbstractSpinBox, QAbstractItemView)
#: Everything that takes part in the dialog and so needs an accessible name.
CONTROLS = (
    QAbstractButton,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QComboBox,
    QAbstractSpinBox,
    QAbstractItemView,
    QSlider,
)
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def enter_submits(widget: QWidget) -> QWidget:
    """Let Enter in this single-line field do its own thing (search, sign in)."""
    widget.setProperty(ENTER_SUBMITS, True)
    return widget


def mark_primary(button: QAbstractButton) -> QAbstractButton:
    """The button Ctrl+Enter presses in its dialog."""
    button.setProperty(PRIMARY, True)
    return button


def primary_button(dialog: QWidget) -> QAbstractButton | None:
    """The marked button; else the default push button; else the box's accept button."""
    buttons = [b for b in dialog.findChildren(QAbstractButton) if b.isVisible()]
    for button in buttons:
        if button.property(PRIMARY):
            return button
    for button in buttons:
        if isinstance(button, QPushButton) and button.isDefault():
            return button
    for box in dialog.findChildren(QDialogButtonBox):
        for button in box.buttons():
            role = box.buttonRole(button)
            if button.isVisible() and role in (
                QDialogButtonBox.ButtonRole.AcceptRole,
                QDialogButtonBox.ButtonRole.YesRole,
                QDialogButtonBox.ButtonRole.ApplyRole,
            ):
                return button
    return None


def _usable(widget: QWidget) -> bool:
    return bool(
        widget.isVisible()
        and widget.isEnabled()
        and widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        and not (isinstance(widget, QLineEdit) and widget.isReadOnly())
    )


def first_input(dialog: QWidget) -> QWidget | None:
    """The first input in the dialog's Tab order (not a button, not a label)."""
    start = dialog.nextInFocusChain()
    widget = start
    seen = 0
    while widget is not None and widget is not dialog and seen < 2000:
        seen += 1
        if (
            isinstance(widget, INPUTS)
            and _usable(widget)
            and dialog.isAncestorOf(widget)
            and not isinstance(widget.parentWidget(), QComboBox | QAbstractSpinBox)
        ):
            return widget
        widget = widget.nextInFocusChain()
    return None


def focus_first_input(dialog: QWidget) -> None:
    target = first_input(dialog)
    if target is not None:
        target.setFocus(Qt.FocusReason.OtherFocusReason)


def _strip(text: str) -> str:
    return re.sub(r"&(.)", r"\1", text).replace("…", "").strip(" :")


def add_mnemonics(buttons: Iterable[QAbstractButton]) -> None:
    """An Alt+letter for every button, unique among ``buttons``, first letters first."""
    buttons = [b for b in buttons if b.text()]
    used = {
        match.group(1).lower()
        for button in buttons
        if (match := re.search(r"&(\w)", button.text()))
    }
    for button in buttons:
        text = button.text()
        if re.search(r"&\w", text):
            continue
        positions = [m.start() for m in re.finditer(r"\b\w", text)] + list(range(len(text)))
        for index in positions:
            letter = text[index].lower()
            if text[index].isalpha() and letter not in used:
                used.add(letter)
                button.setText(text[:index] + "&" + text[index:])
                break


def _form_label(widget: QWidget) -> str:
    """The text of the form row (or buddy label) this widget belongs to."""
    node: QWidget | None = widget
    while node is not None:
        parent = node.parentWidget()
        if parent is None:
            return ""
        forms = [parent.layout(), *parent.findChildren(QFormLayout)]
        for form in forms:
            if isinstance(form, QFormLayout):
                label = form.labelForField(node)
                if isinstance(label, QLabel) and label.text():
                    return _strip(label.text())
        for label in parent.findChildren(QLabel):
            if label.buddy() is widget and label.text():
                return _strip(label.text())
        if isinstance(parent, QDialog | QGroupBox):
            return ""
        node = parent
    return ""


def _find_layout(layout: QLayout, widget: QWidget) -> QLayout | None:
    """The layout (``layout`` or one nested in it) that holds ``widget`` directly."""
    for index in range(layout.count()):
        item = layout.itemAt(index)
        if item is None:
            continue
        if item.widget() is widget:
            return layout
        inner = item.layout()
        if inner is not None and (found := _find_layout(inner, widget)) is not None:
            return found
    return None


def _neighbour_label(widget: QWidget) -> str:
    """A short label just before ``widget`` in its grid row or box (a filter's "Agent")."""
    parent = widget.parentWidget()
    top = parent.layout() if parent is not None else None
    layout = _find_layout(top, widget) if top is not None else None
    before: QWidget | None = None
    if isinstance(layout, QGridLayout):
        position: tuple[int, int, int, int] = layout.getItemPosition(layout.indexOf(widget))  # type: ignore[assignment]
        row, column = position[0], position[1]
        item = layout.itemAtPosition(row, column - 1) if column > 0 else None
        before = item.widget() if item is not None else None
    elif isinstance(layout, QBoxLayout):
        index = layout.indexOf(widget)
        item = layout.itemAt(index - 1) if index > 0 else None
        before = item.widget() if item is not None else None
    if isinstance(before, QLabel) and before.text() and len(before.text()) <= 60:
        return _strip(re.sub(r"<[^>]+>", "", before.text()))
    return ""


def describe_control(widget: QWidget) -> str:
    """A name a screen reader can say for ``widget`` ("" when nothing says what it is)."""
    if isinstance(widget, QAbstractButton) and widget.text():
        return _strip(widget.text())
    label = _form_label(widget) or _neighbour_label(widget)
    if label:
        return label
    placeholder = getattr(widget, "placeholderText", None)
    if callable(placeholder) and placeholder():
        return _strip(str(placeholder()))
    if widget.toolTip():
        return _strip(re.sub(r"<[^>]+>", "", widget.toolTip()))
    if isinstance(widget, QGroupBox | QCheckBox | QRadioButton):
        return ""
    box = widget.parentWidget()
    while box is not None and not isinstance(box, QDialog):
        if isinstance(box, QGroupBox) and box.title():
            return _strip(box.title())
        box = box.parentWidget()
    return ""


def name_controls(root: QWidget) -> list[QWidget]:
    """Give each control under ``root`` without an accessible name one; return the rest."""
    unnamed: list[QWidget] = []
    for widget in root.findChildren(QWidget):
        if not isinstance(widget, CONTROLS) or widget.accessibleName():
            continue
        if isinstance(widget, QHeaderView):
            continue  # part of its table, which is named
        if isinstance(widget.parentWidget(), QComboBox | QAbstractSpinBox):
            continue  # the inner line edit of a combo or spin box: its owner is named
        name = describe_control(widget)
        if name:
            widget.setAccessibleName(name)
        else:
            unnamed.append(widget)
    return unnamed


def fit_on_screen(dialog: QWidget) -> None:
    """Never taller or wider than the screen's free area (a 1366×768 laptop): shrink."""
    screen = dialog.screen()
    if screen is None:
        return
    free = screen.availableGeometry()
    frame = 40  # the window manager's title bar and borders
    width = min(dialog.width(), free.width() - 16)
    height = min(dialog.height(), free.height() - frame)
    if (width, height) != (dialog.width(), dialog.height()):
        dialog.resize(max(width, dialog.minimumWidth()), max(height, dialog.minimumHeight()))


def apply_to_dialog(dialog: QDialog) -> None:
    fit_on_screen(dialog)
    add_mnemonics(dialog.findChildren(QAbstractButton))
    for edit in dialog.findChildren(QPlainTextEdit) + dialog.findChildren(QTextEdit):
        edit.setTabChangesFocus(True)
    name_controls(dialog)
    if not dialog.property(APPLIED):
        dialog.setProperty(APPLIED, True)
        focus = QApplication.focusWidget()
        if focus is None or not dialog.isAncestorOf(focus) or isinstance(focus, QAbstractButton):
            focus_first_input(dialog)


class DeskConventions(QObject):
    """The application-wide event filter that applies the rules above."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Show and isinstance(watched, QDialog):
            dialog = watched
            QTimer.singleShot(0, lambda: _apply_if_alive(dialog))
            return False
        if kind == QEvent.Type.KeyPress and isinstance(watched, QWidget):
            assert isinstance(event, QKeyEvent)
            if watched is QApplication.focusWidget():
                return self._key(watched, event)
        return False

    def _key(self, widget: QWidget, event: QKeyEvent) -> bool:
        if event.key() not in _ENTER:
            return False
        dialog = widget.window()
        if not isinstance(dialog, QDialog):
            return False
        modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if modifiers == Qt.KeyboardModifier.ControlModifier:
            button = primary_button(dialog)
            if button is not None and button.isEnabled():
                button.click()
            return True
        if modifiers != Qt.KeyboardModifier.NoModifier:
            return False
        owner = widget
        parent = widget.parentWidget()
        if isinstance(parent, QComboBox | QAbstractSpinBox):
            owner = parent
        single_line = isinstance(owner, QLineEdit | QComboBox | QAbstractSpinBox)
        if not single_line or owner.property(ENTER_SUBMITS):
            return False
        if isinstance(owner, QLineEdit) and owner.receivers(SIGNAL("returnPressed()")) > 0:
            return False  # the field does its own thing on Enter (add, look up, apply)
        if isinstance(owner, QComboBox) and owner.view().isVisible():
            return False  # Enter picks from the open list
        owner.focusNextChild()
        return True


def _apply_if_alive(dialog: QDialog) -> None:
    try:
        if dialog.isVisible():
            apply_to_dialog(dialog)
    except RuntimeError:  # deleted before the timer fired
        pass


_installed: DeskConventions | None = None


def install(app: QApplication) -> DeskConventions:
    """Install the rules once for the whole application."""
    global _installed
    if _installed is None:
        _installed = DeskConventions(app)
        app.installEventFilter(_installed)
    return _installed
