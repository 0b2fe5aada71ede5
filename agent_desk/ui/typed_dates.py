"""Dates and times typed the way an agent says them: "15-12", "15 dec", "+7", "tomorrow".

``parse_typed_date`` reads a day relative to today. ``TypedDateEdit`` and
``TypedDateTimeEdit`` are the date fields of every dialog: a line edit (one Tab stop,
not one per part) with the API of ``QDateEdit``/``QDateTimeEdit`` that the dialogs use
(``date()``, ``setDate()``, ``dateTime()``, ``dateChanged``…). Focus selects the text so
typing replaces it; Up/Down step a day; the date it understood is shown in the field
when it leaves. Nothing is guessed silently: a text that is not a date is marked
(``invalid`` property, tooltip says how to type it) and the field keeps its last date.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from PySide6.QtCore import QDate, QDateTime, Qt, QTime, QTimer, Signal
from PySide6.QtGui import QFocusEvent, QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

from agent_desk.i18n import N_

MONTHS = {
    # English and Dutch month names and their usual abbreviations.
    "jan": 1, "januari": 1, "january": 1,
    "feb": 2, "februari": 2, "february": 2,
    "mar": 3, "mrt": 3, "maart": 3, "march": 3,
    "apr": 4, "april": 4,
    "may": 5, "mei": 5,
    "jun": 6, "juni": 6, "june": 6,
    "jul": 7, "juli": 7, "july": 7,
    "aug": 8, "augustus": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "okt": 10, "oktober": 10, "october": 10,
    "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}  # fmt: skip
WORDS = {"today": 0, "vandaag": 0, "tomorrow": 1, "morgen": 1, "overmorgen": 2}

_RELATIVE = re.compile(r"^\+\s*(\d{1,3})\s*([dwm]?)$")
_NUMERIC = re.compile(r"^(\d{1,2})[-/. ](\d{1,2})(?:[-/. ](\d{2}|\d{4}))?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_NAMED = re.compile(r"^(\d{1,2})\s*([a-z]+)\.?(?:\s+(\d{4}))?$")
_TIME = re.compile(r"^(.*?)\s+(\d{1,2})[:.](\d{2})$")


def _year(text: str | None, today: date) -> int | None:
    if text is None:
        return None
    year = int(text)
    return 2000 + year if year < 100 else year


def _make(day: int, month: int, year: int | None, today: date) -> date | None:
    """A day and month without a year: this year, or next year when that day has passed."""
    try:
        found = date(year or today.year, month, day)
    except ValueError:
        return None
    if year is None and found < today:
        try:
            found = date(today.year + 1, month, day)
        except ValueError:
            return None
    return found


def parse_typed_date(text: str, today: date) -> date | None:
    """The day ``text`` means, or None. "+7" is in 7 days, "+2w" two weeks, "+1m" a month."""
    text = text.strip().lower()
    if not text:
        return None
    if text in WORDS:
        return today + timedelta(days=WORDS[text])
    if match := _RELATIVE.match(text):
        count, unit = int(match[1]), match[2] or "d"
        if unit == "w":
            return today + timedelta(weeks=count)
        if unit == "m":
            month = today.month - 1 + count
            year, month = today.year + month // 12, month % 12 + 1
            for day in (today.day, 30, 29, 28):
                try:
                    return date(year, month, day)
                except ValueError:
                    continue
        return today + timedelta(days=count)
    if match := _ISO.match(text):
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
    if match := _NUMERIC.match(text):
        return _make(int(match[1]), int(match[2]), _year(match[3], today), today)
    if match := _NAMED.match(text):
        named = MONTHS.get(match[2])
        if named is None:
            return None
        return _make(int(match[1]), named, _year(match[3], today), today)
    return None


def parse_typed_datetime(text: str, now: datetime, default: time) -> datetime | None:
    """A typed day with an optional time ("15-12 14:30"); without one, ``default``."""
    text = text.strip()
    moment = default
    if match := _TIME.match(text):
        hour, minute = int(match[2]), int(match[3])
        if hour > 23 or minute > 59:
            return None
        text, moment = match[1], time(hour, minute)
    day = parse_typed_date(text, now.date())
    return datetime.combine(day, moment) if day is not None else None


class TypedDateTimeEdit(QLineEdit):
    """A date-and-time field: "15-12 14:30", "+2", "morgen 9:00" or 15-12-2026 14:30."""

    dateTimeChanged = Signal(QDateTime)
    dateChanged = Signal(QDate)
    FORMAT = "dd-MM-yyyy HH:mm"
    WITH_TIME = True
    #: How the "not a date" hint is translated; the desk sets its translator here.
    translate: Callable[[str], str] = staticmethod(lambda text: text)

    def __init__(self, value: QDateTime | QDate | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._value = QDateTime(QDate.currentDate(), QTime(9, 0) if self.WITH_TIME else QTime(0, 0))
        self._minimum: QDate | None = None
        self._maximum: QDate | None = None
        self._format = self.FORMAT
        self.setProperty("invalid", "false")
        self.editingFinished.connect(self.interpretText)
        self.textEdited.connect(lambda _text: self._mark(self._parse(self.text()) is not None))
        if isinstance(value, QDate):
            self.setDate(value)
        elif value is not None:
            self.setDateTime(value)
        else:
            self._show()

    # -- the QDateTimeEdit API the dialogs use -----------------------------------------

    def dateTime(self) -> QDateTime:
        return QDateTime(self._value)

    def date(self) -> QDate:
        return self._value.date()

    def time(self) -> QTime:
        return self._value.time()

    def setDateTime(self, value: QDateTime) -> None:
        self._set(QDateTime(value))

    def setDate(self, value: QDate) -> None:
        self._set(QDateTime(value, self._value.time()))

    def setMinimumDate(self, value: QDate) -> None:
        self._minimum = value

    def setMaximumDate(self, value: QDate) -> None:
        self._maximum = value

    def setDisplayFormat(self, text: str) -> None:
        self._format = text
        self._show()

    def displayFormat(self) -> str:
        return self._format

    def setCalendarPopup(self, _on: bool) -> None:
        """Kept for the old call; the field is typed (Up/Down step a day)."""

    def interpretText(self) -> None:
        """Read what was typed; keep the last date (and say so) when it is not a date."""
        parsed = self._parse(self.text())
        if parsed is None:
            self._mark(False)
            return
        self._set(parsed)

    # -- inside ------------------------------------------------------------------

    def _parse(self, text: str) -> QDateTime | None:
        exact = QDateTime.fromString(text.strip(), self._format)
        if exact.isValid():
            return exact
        current = self._value.toPython()
        assert isinstance(current, datetime)
        if self.WITH_TIME:
            typed = parse_typed_datetime(text, datetime.now(), current.time())
            return QDateTime(typed) if typed is not None else None  # type: ignore[call-overload, unused-ignore]  # PySide6 6.11 stubs
        day = parse_typed_date(text, date.today())
        return QDateTime(QDate(day), QTime(0, 0)) if day is not None else None  # type: ignore[call-overload, unused-ignore]  # PySide6 6.11 stubs

    def _set(self, value: QDateTime) -> None:
        if self._minimum is not None and value.date() < self._minimum:
            value = QDateTime(self._minimum, value.time())
        if self._maximum is not None and value.date() > self._maximum:
            value = QDateTime(self._maximum, value.time())
        changed = value != self._value
        self._value = value
        self._show()
        if changed:
            self.dateTimeChanged.emit(QDateTime(value))
            self.dateChanged.emit(value.date())

    def _show(self) -> None:
        self.setText(self._value.toString(self._format))
        self._mark(True)

    def _mark(self, valid: bool) -> None:
        self.setProperty("invalid", "false" if valid else "true")
        self.setToolTip("" if valid else self._hint())
        self.style().unpolish(self)
        self.style().polish(self)

    def _hint(self) -> str:
        return TypedDateTimeEdit.translate(
            N_("Not a date: type it like 15-12, 15 dec, +7 or 15-12-2026.")
        )

    def keyPressEvent(self, event: QKeyEvent) -> None:
        step = {
            Qt.Key.Key_Up: 1,
            Qt.Key.Key_Down: -1,
            Qt.Key.Key_PageUp: 7,
            Qt.Key.Key_PageDown: -7,
        }
        key = Qt.Key(event.key())
        if key in step and not event.modifiers():
            self.interpretText()
            self._set(self._value.addDays(step[key]))
            self.selectAll()
            return
        super().keyPressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        QTimer.singleShot(0, self.selectAll)


class TypedDateEdit(TypedDateTimeEdit):
    """A date field: "15-12", "15 dec", "+7", "morgen" or 15-12-2026."""

    FORMAT = "dd-MM-yyyy"
    WITH_TIME = False
