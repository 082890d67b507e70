"""SVG drawings as PNG, for tools and documents that take no SVG (the gap map's PNG download).

Rendered by resvg (the ``resvg-py`` wheel: self-contained, no system library) with the machine's fonts; the
drawings name a generic sans-serif family last, which is mapped to DejaVu Sans when it is installed.
"""

from __future__ import annotations

from pathlib import Path

import resvg_py

# Common sans-serif fonts of Linux machines (Debian's fonts-dejavu-core is installed by .ci/run), first found wins.
SANS_SERIF = (
    ("DejaVu Sans", "/usr/share/fonts/truetype/dejavu"),
    ("Liberation Sans", "/usr/share/fonts/truetype/liberation"),
)


def png_from_svg(svg: str, *, zoom: float = 1.0) -> bytes:
    """``svg`` (a complete SVG document) drawn as a PNG, ``zoom`` times its size, on white."""
    family = next((name for name, folder in SANS_SERIF if Path(folder).is_dir()), None)
    return bytes(resvg_py.svg_to_bytes(svg_string=svg, background="#ffffff", zoom=zoom, sans_serif_family=family))
