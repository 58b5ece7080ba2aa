#!/usr/bin/env python3
"""Syntax-checks Swift sources with tree-sitter-swift, for machines without a
Swift toolchain.

Usage: swift_check.py [PATH ...]   (default: the repository root)

Every *.swift file under the given paths is parsed; any ERROR or MISSING
node in the tree is reported as FILE:LINE:COL and the exit status is 1.
This catches syntax errors, not type errors: `swift build` on macOS is
still the real compiler check.

Two constructs are masked before parsing because the grammar lacks them
while Swift accepts them, and uniffi's generated code uses them:

- a `#if` block holding only attributes (`@_documentation(visibility:
  private)`); only blocks of nothing but attributes are masked;
- a closure whose whole body is the empty tuple, `{ () }` (the
  `writeReturn` of a callback method that returns nothing), which the
  grammar reads as the start of a closure signature; it becomes `{    }`,
  an empty closure, and only that exact text is touched.

The masks keep every line and column.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import tree_sitter
import tree_sitter_swift

# Directories that hold build output or third-party code, never our sources.
SKIP_DIRS = {
    ".git",
    "target",
    "node_modules",
    ".build",
    ".swiftpm",
    "DerivedData",
    "build",
}

_ATTRIBUTE_ONLY_IF = re.compile(
    r"^[ \t]*#if[^\n]*\n(?:[ \t]*@[A-Za-z_][\w.]*(?:\([^\n]*\))?[ \t]*\n)+[ \t]*#endif[ \t]*$",
    re.MULTILINE,
)


_UNIT_CLOSURE = re.compile(r"\{ \(\) \}")


def mask_unsupported(source: str) -> str:
    """Blanks attribute-only `#if` blocks and empties `{ () }` closures,
    keeping every line and column."""
    source = _ATTRIBUTE_ONLY_IF.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), source)
    return _UNIT_CLOSURE.sub("{    }", source)


def swift_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for root in paths:
        if root.is_file():
            found.append(root)
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(
                d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".venv")
            )
            found.extend(Path(dirpath) / f for f in sorted(filenames) if f.endswith(".swift"))
    return found


def syntax_errors(parser: tree_sitter.Parser, source: str) -> list[tuple[int, int, str]]:
    """(line, column, description) for each ERROR or MISSING node, 1-based."""
    tree = parser.parse(mask_unsupported(source).encode("utf-8"))
    lines = source.splitlines()
    errors: list[tuple[int, int, str]] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.is_missing or node.type == "ERROR":
            row, col = node.start_point
            text = lines[row].strip() if row < len(lines) else ""
            kind = f"missing {node.type}" if node.is_missing else "syntax error"
            errors.append((row + 1, col + 1, f"{kind}: {text[:120]}"))
            continue  # one report per broken region
        if node.has_error:
            stack.extend(reversed(node.children))
    return sorted(errors)


def main(argv: list[str]) -> int:
    repo = Path(__file__).resolve().parent.parent
    paths = [Path(p) for p in argv] or [repo]
    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_swift.language()))
    files = swift_files(paths)
    failed = 0
    for path in files:
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            print(f"{path}: cannot read: {e}")
            failed += 1
            continue
        errors = syntax_errors(parser, source)
        for line, col, what in errors:
            print(f"{path}:{line}:{col}: {what}")
        failed += bool(errors)
    print(f"swift-check: {len(files)} files, {failed} with syntax errors")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
