#!/usr/bin/env python3
"""Checks a PDF that LibreOffice made from one of our DOCX files.

Usage: client_check.py CLIENT.pdf [--same-pages-as OURS.pdf] [--contains TEXT]...
                       [--header-on-table-pages TEXT]

--same-pages-as   the client's page count must equal that of our own PDF
--contains        a text (spaces ignored) that must be in the client's PDF
--header-on-table-pages
                  every page that holds part of the table (a page whose text has
                  the header's first cell's neighbours) must repeat the header text

Prints one line per finding; exit 1 on any.
"""

import argparse
import re
import sys

import pymupdf


def squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("pdf")
    ap.add_argument("--same-pages-as")
    ap.add_argument("--contains", action="append", default=[])
    ap.add_argument("--header-on-table-pages")
    a = ap.parse_args()
    doc = pymupdf.open(a.pdf)
    pages = [squash(p.get_text()) for p in doc]
    problems = []
    if a.same_pages_as:
        ours = len(pymupdf.open(a.same_pages_as))
        if ours != len(pages):
            problems.append(f"{len(pages)} pages in the client, {ours} in our PDF")
    text = "".join(pages)
    for t in a.contains:
        if squash(t) not in text:
            problems.append(f"text not found: {t}")
    if a.header_on_table_pages:
        header = squash(a.header_on_table_pages)
        # the table's pages: the landscape pages from the first that shows its
        # header on (the annex title and notes may fill a page before it)
        first = next((i for i, t in enumerate(pages) if header in t), None)
        if first is None:
            problems.append("the table header is not found")
        else:
            for i in range(first, len(doc)):
                p = doc[i]
                if p.rect.width <= p.rect.height:
                    break
                if header not in pages[i]:
                    problems.append(f"page {i + 1}: the table header is not repeated")
    for p in problems:
        print(f"{a.pdf}: {p}")
    print(f"{a.pdf}: {len(pages)} pages, {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
