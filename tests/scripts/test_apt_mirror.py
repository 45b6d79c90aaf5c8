#!/usr/bin/env python3
"""scripts/apt-mirror.sh finds the mirror of a suite in apt's configuration, as apt reads it:
deb822 .sources first, then one-line sources.list and .list files (options in brackets,
disabled stanzas, deb-src and other suites skipped). Run on APT_ROOT trees the test writes."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SCRIPT = sys.argv.pop(1) if len(sys.argv) > 1 else "scripts/apt-mirror.sh"


class AptMirrorTest(unittest.TestCase):
    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="apt-mirror-")
        os.makedirs(os.path.join(self.root, "etc/apt/sources.list.d"))

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def write(self, rel, text):
        with open(os.path.join(self.root, "etc/apt", rel), "w") as f:
            f.write(text)

    def mirror(self, suite="bookworm"):
        out = subprocess.run(["bash", SCRIPT, suite], capture_output=True, text=True, timeout=20,
                             env=dict(os.environ, APT_ROOT=self.root))
        return out.returncode, out.stdout.strip(), out.stderr

    def test_deb822_picks_the_stanza_with_the_suite(self):
        self.write("sources.list.d/debian.sources",
                   "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n\n"
                   "Types: deb\n# a comment\nURIs: http://mirror.corp.test/debian/ http://b.test/d\n"
                   "Suites: bookworm bookworm-updates\nComponents: main\n\n"
                   "Types: deb\nURIs: http://mirror.corp.test/debian-security\n"
                   "Suites: bookworm-security\n")
        self.assertEqual(self.mirror(), (0, "http://mirror.corp.test/debian", ""))
        self.assertEqual(self.mirror("bookworm-security")[1],
                         "http://mirror.corp.test/debian-security")

    def test_disabled_stanzas_are_skipped(self):
        self.write("sources.list.d/a.sources",
                   "Enabled: no\nTypes: deb\nURIs: http://off.test/debian\nSuites: bookworm\n\n"
                   "Types: deb\nURIs: http://on.test/debian\nSuites: bookworm\n")
        self.assertEqual(self.mirror()[1], "http://on.test/debian")

    def test_one_line_format_with_options(self):
        self.write("sources.list",
                   "# deb http://commented.test/debian bookworm main\n"
                   "deb-src http://src.test/debian bookworm main\n"
                   "deb [arch=amd64 signed-by=/k.gpg] http://proxy.test:3142/debian bookworm main\n")
        self.assertEqual(self.mirror()[1], "http://proxy.test:3142/debian")
        self.write("sources.list.d/extra.list", "deb http://extra.test/debian trixie main\n")
        self.assertEqual(self.mirror("trixie")[1], "http://extra.test/debian")

    def test_no_source_is_a_clear_error(self):
        self.write("sources.list", "deb http://x.test/debian bullseye main\n")
        code, out, err = self.mirror()
        self.assertEqual(code, 1)
        self.assertEqual(out, "")
        self.assertIn("no deb source for bookworm", err)
        self.assertIn("DEBIAN_MIRROR", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
