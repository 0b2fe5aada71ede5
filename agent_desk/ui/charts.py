"""Bar charts for the supervisor, where looking beats reading (QtCharts).

Two charts, each a ``QChartView`` that is filled again on every refresh: the queue
size per agent, and the contact outcomes per day (stacked, one colour per outcome,
a legend with the translated outcome words).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from PySide6.QtCharts import (
    QAbstractBarSeries,
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QWidget

from agent_desk.domain.codes import Outcome
from agent_desk.ui.labels import OUTCOMES, Words

# Calm colours; reached-type outcomes green/blue, failed attempts grey, trouble warm.
OUTCOME_COLOURS: dict[str, str] = {
    Outcome.REACHED: "#2e7d32",
    Outcome.PROMISE_MADE: "#1565c0",
    Outcome.ARRANGEMENT_MADE: "#6a1b9a",
    Outcome.CALLBACK_REQUESTED: "#00838f",
    Outcome.NO_ANSWER: "#9e9e9e",
    Outcome.VOICEMAIL: "#bdbdbd",
    Outcome.WRONG_NUMBER: "#c62828",
    Outcome.THIRD_PARTY: "#757575",
    Outcome.REFUSED: "#ef6c00",
    Outcome.DISPUTE: "#ad1457",
    Outcome.REFERRED_DEBT_HELP: "#558b2f",
    Outcome.PAUSE_REQUESTED: "#f9a825",
}


def _nice_max(value: int) -> int:
    """A round top for the value axis, at least 5."""
    top = max(5, value)
    for step in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000):
        if top <= step * 5:
            return -(-top // step) * step
    return top


class _BarChart(QChartView):
    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        chart = QChart()
        chart.setTitle(title)
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        chart.setBackgroundRoundness(0)
        chart.setMargins(QMargins(4, 4, 4, 4))
        super().__init__(chart, parent)
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setMinimumHeight(260)
        self.chart_ = chart

    def series(self) -> list[QAbstractBarSeries]:
        return [s for s in self.chart_.series() if isinstance(s, QAbstractBarSeries)]

    def categories(self) -> list[str]:
        axes = self.chart_.axes(Qt.Orientation.Horizontal)
        for axis in axes:
            if isinstance(axis, QBarCategoryAxis):
                return list(axis.categories())
        return []

    def total(self) -> float:
        return sum(
            sum(s.at(i) for i in range(s.count())) for b in self.series() for s in b.barSets()
        )

    def _replace(self, series: QAbstractBarSeries, categories: Sequence[str], top: int) -> None:
        chart = self.chart_
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        chart.addSeries(series)
        x = QBarCategoryAxis()
        x.append(list(categories))
        small = x.labelsFont()
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.9))
        x.setLabelsFont(small)
        x.setTitleFont(small)
        y = QValueAxis()
        y.setRange(0, _nice_max(top))
        y.setLabelFormat("%d")
        y.setTickCount(6)
        chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x)
        series.attachAxis(y)


class QueueChart(_BarChart):
    """Customers due for a call now, one bar per agent."""

    def __init__(self, words: Words, parent: QWidget | None = None) -> None:
        super().__init__(words.tr("Queue size per agent"), parent)
        self.setObjectName("queueChart")
        self.words = words
        self.chart_.legend().hide()

    def show_queues(self, queues: Sequence[tuple[str, int]]) -> None:
        bars = QBarSet(self.words.tr("Queue size"))
        bars.setColor(QColor("#1565c0"))
        bars.append([float(size) for _name, size in queues])
        series = QBarSeries()
        series.setObjectName("queueSeries")
        series.append(bars)
        bars.setLabelColor(QColor("#ffffff"))
        series.setLabelsVisible(True)
        series.setLabelsPosition(QAbstractBarSeries.LabelsPosition.LabelsInsideEnd)
        top = max((size for _name, size in queues), default=0)
        short = [_first_name(name) for name, _size in queues]
        if len(set(short)) != len(short):  # two Sannes: full names keep the bars apart
            short = [name for name, _size in queues]
        self._replace(series, short, int(top * 1.15))


class OutcomesChart(_BarChart):
    """Contact outcomes per day, stacked by outcome."""

    def __init__(self, words: Words, parent: QWidget | None = None) -> None:
        super().__init__(words.tr("Outcomes per day"), parent)
        self.setObjectName("outcomesChart")
        self.words = words
        legend = self.chart_.legend()
        legend.setAlignment(Qt.AlignmentFlag.AlignRight)
        legend.setMarkerShape(legend.MarkerShape.MarkerShapeRectangle)

    def show_outcomes(
        self, days: Sequence[date], per_day: Mapping[date, Mapping[str, int]]
    ) -> None:
        used = [o for o in Outcome if any(per_day.get(d, {}).get(o.value) for d in days)]
        series = QStackedBarSeries()
        series.setObjectName("outcomesSeries")
        for outcome in used:
            bars = QBarSet(self.words.code(OUTCOMES, outcome.value))
            bars.setColor(QColor(OUTCOME_COLOURS.get(outcome, "#607d8b")))
            bars.setBorderColor(QColor(OUTCOME_COLOURS.get(outcome, "#607d8b")))
            bars.append([float(per_day.get(d, {}).get(outcome.value, 0)) for d in days])
            series.append(bars)
        top = max((sum(per_day.get(d, {}).values()) for d in days), default=0)
        self._replace(series, [str(d.day) for d in days], top)
        if days:  # day numbers under the bars; the period once, as the axis title
            period = f"{self.words.day(days[0])} – {self.words.day(days[-1])}"
            for axis in self.chart_.axes(Qt.Orientation.Horizontal):
                axis.setTitleText(period)
        self.chart_.legend().setVisible(bool(used))


def _first_name(name: str) -> str:
    return name.split(" ")[0] if name else name
