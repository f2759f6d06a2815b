"""Say loudly, before the suite runs, whether the browser tests can run on this machine."""

import shutil
import sys

path = shutil.which("chromium") or shutil.which("chromium-browser")
if path:
    print(f"browser tests: using {path}")
else:
    bar = "!" * 78
    print(
        f"\n{bar}\n!! chromium NOT FOUND: the browser tests will be SKIPPED on this machine.\n"
        f"!! Install Debian's chromium (apt-get install chromium) to run them; .ci/run does.\n{bar}\n",
        file=sys.stderr,
    )
