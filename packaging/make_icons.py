"""Render resources/icons/agent-desk.svg to the PNG sizes (and a Windows .ico).

Run once after changing the SVG: ``QT_QPA_PLATFORM=offscreen python packaging/make_icons.py``.
The PNGs are committed; the desk uses them as its window icon, the bundle's
``.desktop`` entry as its launcher icon (hicolor sizes).
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"


def render(renderer: QSvgRenderer, size: int) -> QImage:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def write_ico(images: dict[int, QImage], path: Path) -> None:
    """A .ico of PNG entries (Windows Vista and later read these)."""
    chosen = [s for s in (16, 24, 32, 48, 64, 128, 256) if s in images]
    blobs = [png_bytes(images[s]) for s in chosen]
    header = (
        (0).to_bytes(2, "little") + (1).to_bytes(2, "little") + len(chosen).to_bytes(2, "little")
    )
    offset = 6 + 16 * len(chosen)
    entries = b""
    for size, blob in zip(chosen, blobs, strict=True):
        side = 0 if size >= 256 else size
        entries += (
            bytes([side, side, 0, 0]) + (1).to_bytes(2, "little") + (32).to_bytes(2, "little")
        )
        entries += len(blob).to_bytes(4, "little") + offset.to_bytes(4, "little")
        offset += len(blob)
    path.write_bytes(header + entries + b"".join(blobs))


def main() -> int:
    app = QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICONS / "agent-desk.svg"))
    if not renderer.isValid():
        print("make_icons: the SVG does not render", file=sys.stderr)
        return 1
    images = {size: render(renderer, size) for size in SIZES}
    for size, image in images.items():
        image.save(str(ICONS / f"agent-desk-{size}.png"), "PNG")
    write_ico(images, ICONS / "agent-desk.ico")
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
