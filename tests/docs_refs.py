#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The repository stands on its own: its references to documents resolve.

docs_refs.py SRCDIR

Fails when a file of the source tree
- names a document that lives outside the repository (the research notes
  the project started from, or the sibling directory they sat in), or
- cites a section (a "§" followed by a section number) that is not a
  heading of docs/formats.md, the one document cited by section, or
- names docs/<file>.md for a file that does not exist.
Build directories and downloaded subprojects are not part of the source and
are skipped.
"""
import os
import re
import sys

# Spelt in pieces so that this file does not match its own search.
FORBIDDEN = ["../" + "shared", "arch" + "-facts", "DESIGN" + ".md"]
SECTION_REF = re.compile("\u00a7" + r"([A-Z0-9]+(?:\.[0-9]+)*)")
HEADING = re.compile(r"^#{2,4} ([A-Z](?:\.[0-9]+)*)\.? ", re.M)
DOC_NAME = re.compile(r"docs/([A-Za-z0-9_-]+\.md)")


def source_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        keep = []
        for d in dirnames:
            full = os.path.join(dirpath, d)
            if d == ".git" or os.path.exists(os.path.join(full, "meson-private")):
                continue  # git's store, a build directory
            if rel == "subprojects" and d != "packagefiles":
                continue  # downloaded or unpacked by Meson
            keep.append(d)
        dirnames[:] = sorted(keep)
        for f in sorted(filenames):
            path = os.path.join(dirpath, f)
            try:
                with open(path, encoding="utf-8") as fh:
                    yield os.path.relpath(path, root), fh.read()
            except (UnicodeDecodeError, OSError):
                continue  # binary


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    formats = os.path.join(root, "docs", "formats.md")
    try:
        with open(formats, encoding="utf-8") as fh:
            sections = set(HEADING.findall(fh.read()))
    except OSError as e:
        print(f"cannot read {formats}: {e}")
        return 1
    if not sections:
        print(f"{formats}: no numbered section headings found")
        return 1
    errors, refs, files = [], 0, 0
    for rel, text in source_files(root):
        files += 1
        for lineno, line in enumerate(text.splitlines(), 1):
            for word in FORBIDDEN:
                if word in line:
                    errors.append(f"{rel}:{lineno}: names '{word}', which is not in the repository")
            for sec in SECTION_REF.findall(line):
                refs += 1
                if sec not in sections:
                    errors.append(f"{rel}:{lineno}: \u00a7{sec} is not a section of docs/formats.md")
            for doc in DOC_NAME.findall(line):
                if not os.path.exists(os.path.join(root, "docs", doc)):
                    errors.append(f"{rel}:{lineno}: docs/{doc} does not exist")
    if errors:
        print("\n".join(errors))
        return 1
    print(f"{files} files: {refs} section references, all to the {len(sections)} sections "
          f"of docs/formats.md; no reference outside the repository")
    return 0


if __name__ == "__main__":
    sys.exit(main())
