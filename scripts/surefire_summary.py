#!/usr/bin/env python3
"""Prints one 'N passed, N failed' line from Maven Surefire's XML reports.

`mvn -q` keeps Maven quiet, which also hides Surefire's own summary; this
restores a one-line verdict, and fails if no test ran at all.
"""

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def main(report_dir: str) -> int:
    tests = failed = skipped = 0
    for path in sorted(Path(report_dir).glob("TEST-*.xml")):
        suite = ET.parse(path).getroot()
        tests += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    passed = tests - failed - skipped
    print(f"kotlin: {passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or tests == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "target/surefire-reports"))
