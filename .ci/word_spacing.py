#!/usr/bin/env python3
"""Makes a copy of a DOCX that LibreOffice lays out as Word does.

Usage: word_spacing.py IN.docx OUT.docx

Our DOCX files switch off the automatic gap between Han characters and Latin
letters or digits (w:autoSpaceDE / w:autoSpaceDN = 0), as 公文 are set: Word and
WPS honour that, LibreOffice ignores it on import (its DOCX reader drops both
elements: sw/source/writerfilter/dmapper/DomainMapper.cxx) and puts 0.2 em at
every such boundary, so its lines run longer than Word's and ours. LibreOffice
puts no gap at a boundary that holds a zero-width space (and may still break a
line there, as Word may), so this copy, used only to check the layout in CI,
puts U+200B there. The files the tool writes never hold one.
"""

import re
import sys
import zipfile

HAN = r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]"
ALNUM = r"[0-9A-Za-z]"
BOUNDARY = re.compile(f"(?<={HAN})(?={ALNUM})|(?<={ALNUM})(?={HAN})")
TEXT = re.compile(r"(<w:t(?: [^>]*)?>)([^<]*)(</w:t>)")


def main() -> int:
    src, dst = sys.argv[1], sys.argv[2]
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename.startswith("word/") and item.filename.endswith(".xml"):
                text = data.decode("utf-8")
                text = TEXT.sub(lambda m: m.group(1) + BOUNDARY.sub("\u200b", m.group(2)) + m.group(3), text)
                data = text.encode("utf-8")
            zout.writestr(item, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
