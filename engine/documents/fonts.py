"""The CJK font a PDF document embeds (engine/documents/pdf.py), found without importing the PDF library.

Chinese text needs a CJK font embedded in the file. The Debian package fonts-noto-cjk provides Noto
Serif CJK (`.ci/run` installs it); ``GUANTONG_CJK_FONT`` names another font file
(.ttf, .otf or .ttc) when a machine has a different one. Without any, the download is refused with a
message that says what to install, never a PDF of empty boxes. The refusal comes before anything is read
or audited, so this module is apart from pdf.py: checking for a font must not load fpdf2 into every web
process (issue 19: a web process under 200 MB).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import EngineError

# (regular, bold) candidates and the face of a .ttc collection that is Simplified Chinese (SC).
NOTO_DIRS = (
    Path("/usr/share/fonts/opentype/noto"),
    Path("/usr/share/fonts/noto-cjk"),
    Path("/usr/share/fonts/google-noto-cjk"),
)
NOTO_FILES = ("NotoSerifCJK-Regular.ttc", "NotoSerifCJK-Bold.ttc")
NOTO_SC_INDEX = 2  # JP, KR, SC, TC, HK in Noto's collections
FONT_ENV = "GUANTONG_CJK_FONT"


class FontMissing(EngineError):
    """The server cannot print Chinese: no CJK font is installed (an installation fault, not the user's)."""

    status = 503
    code = "font_missing"


@dataclass(frozen=True)
class Font:
    regular: Path
    bold: Path
    index: int


def find_font() -> Font:
    """The CJK font to embed: ``GUANTONG_CJK_FONT`` if set, else Noto Serif CJK SC from fonts-noto-cjk."""
    named = os.environ.get(FONT_ENV, "").strip()
    if named:
        path = Path(named)
        if not path.is_file():
            raise FontMissing(f"{FONT_ENV}={named} is not a font file", setting=FONT_ENV)
        return Font(path, path, NOTO_SC_INDEX if path.suffix.lower() == ".ttc" else 0)
    for directory in NOTO_DIRS:
        regular, bold = (directory / name for name in NOTO_FILES)
        if regular.is_file():
            return Font(regular, bold if bold.is_file() else regular, NOTO_SC_INDEX)
    raise FontMissing(
        "PDF 需要中文字体：请安装 fonts-noto-cjk（Debian/Ubuntu: apt-get install fonts-noto-cjk），"
        f"或以 {FONT_ENV} 指定字体文件",
        setting=FONT_ENV,
    )
