#!/usr/bin/env python3
"""The editing test: an office opens the example DOCX, edits it and prints it.

Usage: edit_docx.py IN.docx OUT.docx

Adds two sentences to one plan paragraph, lengthens one table cell by 40
characters and renames one unit everywhere, with python-docx (as Word would
keep the file), and writes OUT.docx. Prints the edited texts, one per line
after "EDIT:", so that the caller can look for them in the client's PDF.
"""

import sys

import docx

ADDED = "这是办公室修改时新加的第一句话。这是新加的第二句话，用来检验文字增加后版面仍然正确。"
LONGER = "（补充说明：本项材料须经单位主要负责人审核签字后加盖单位公章，于每季度末报送县司法局备案）"
OLD_UNIT = "县司法局"
NEW_UNIT = "县司法行政局"


def main() -> int:
    src, dst = sys.argv[1], sys.argv[2]
    d = docx.Document(src)
    # one plan paragraph: the first body paragraph of some length after 指导思想
    target = None
    seen_plan = False
    for p in d.paragraphs:
        if "指导思想" in p.text:
            seen_plan = True
            continue
        if seen_plan and len(p.text) > 60:
            target = p
            break
    if target is None:
        print("no plan paragraph found", file=sys.stderr)
        return 1
    target.runs[-1].text += ADDED
    # one table cell, 40 characters longer
    assert len(LONGER) >= 40, len(LONGER)
    table = max(d.tables, key=lambda t: len(t.rows))
    cell = table.rows[3].cells[len(table.columns) - 2]
    cell.paragraphs[-1].runs[-1].text += LONGER[:40]
    # one unit renamed wherever it stands
    renamed = 0
    def rename(paragraphs):
        nonlocal renamed
        for p in paragraphs:
            for r in p.runs:
                if OLD_UNIT in r.text:
                    r.text = r.text.replace(OLD_UNIT, NEW_UNIT)
                    renamed += 1
    rename(d.paragraphs)
    for t in d.tables:
        for row in t.rows:
            for c in row.cells:
                rename(c.paragraphs)
    if renamed == 0:
        print(f"{OLD_UNIT} not found", file=sys.stderr)
        return 1
    d.save(dst)
    print("EDIT:" + ADDED)
    print("EDIT:" + LONGER[:40])
    print("EDIT:" + NEW_UNIT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
