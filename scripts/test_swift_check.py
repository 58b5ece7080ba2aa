"""Tests for swift_check.py: it must fail on broken Swift, pass valid Swift,
and not be fooled by the constructs it masks."""

import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

CHECKER = Path(__file__).resolve().parent / "swift_check.py"

VALID = textwrap.dedent(
    """\
    import Foundation

    public protocol KeyStore: AnyObject {
        func wrapKey(dataKey: Data) throws -> Data
    }

    extension Array {
    #if swift(>=5.8)
        @_documentation(visibility: private)
    #endif
        public func firstTwo() -> ArraySlice<Element> { prefix(2) }
    }

    func callback() {
        let writeReturn = { () }
        writeReturn()
    }
    """
)


def run(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(CHECKER), *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )


class SwiftCheckTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.tmp = Path(self.dir.name)

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name: str, text: str) -> Path:
        path = self.tmp / name
        path.write_text(text, encoding="utf-8")
        return path

    def test_valid_swift_passes(self):
        result = run(self.write("Good.swift", VALID))
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertIn("1 files, 0 with syntax errors", result.stdout)

    def test_a_deliberately_broken_file_fails_with_its_location(self):
        broken = self.write("Broken.swift", VALID + "\nfunc oops( {\n    let x = \n}\n")
        result = run(broken)
        self.assertEqual(result.returncode, 1, result.stdout)
        self.assertIn("Broken.swift:", result.stdout)
        self.assertIn("1 with syntax errors", result.stdout)

    def test_an_unclosed_brace_fails(self):
        result = run(self.write("Unclosed.swift", "struct S {\n    var x: Int\n"))
        self.assertEqual(result.returncode, 1, result.stdout)

    def test_the_mask_does_not_hide_errors_inside_the_block(self):
        # Only attribute lines are masked: code in the #if is still parsed.
        text = "#if swift(>=5.8)\n@available(iOS 15, *)\nfunc f( {\n#endif\n"
        result = run(self.write("Masked.swift", text))
        self.assertEqual(result.returncode, 1, result.stdout)

    def test_the_unit_closure_mask_does_not_hide_a_broken_closure(self):
        text = "func f() {\n    let writeReturn = { ()\n}\n"
        result = run(self.write("OpenClosure.swift", text))
        self.assertEqual(result.returncode, 1, result.stdout)

    def test_directories_are_walked_and_build_output_skipped(self):
        self.write("Good.swift", VALID)
        (self.tmp / ".build").mkdir()
        self.write(".build/Generated.swift", "func broken( {")
        result = run(self.tmp)
        self.assertEqual(result.returncode, 0, result.stdout)
        self.assertIn("1 files", result.stdout)


if __name__ == "__main__":
    unittest.main()
