"""Hostile: never solves the exercise; finds the kit's folder (the editable install's finder file in
site-packages, the grading processes' /proc/PID/cwd) and delegates to the reference solution."""
import glob
import os
import re
import site
import sys


def _kit_folders():
    found = []
    for packages in site.getsitepackages() + [p for p in sys.path if p.endswith("site-packages")]:
        for finder in glob.glob(os.path.join(packages, "__editable__*mpgrade*")):
            with open(finder, encoding="utf-8") as handle:  # the finder file names the kit's graders/ folder
                found += [os.path.dirname(path) for path in re.findall(r"'(/[^']+?/graders)", handle.read())]
    pid = os.getpid()
    while pid > 1:  # every ancestor's working folder
        try:
            found.append(os.readlink(f"/proc/{pid}/cwd"))
            with open(f"/proc/{pid}/status", encoding="utf-8") as handle:
                pid = int(re.search(r"PPid:\s+(\d+)", handle.read()).group(1))
        except (OSError, AttributeError):
            break
    return found


def _load_reference():
    """Run the reference solution's source in this module, so its functions replace these (and pickle by name)."""
    for folder in _kit_folders():
        for up in ("", "..", "../.."):
            path = os.path.join(folder, up, "solutions", "ex05_counter.py")
            if os.path.exists(path):
                with open(path, encoding="utf-8") as handle:  # PermissionError where it cannot be read
                    source = handle.read()
                exec(compile(source.replace('if __name__ == "__main__":', "if False:"), __file__, "exec"),
                     globals())
                return
    raise PermissionError("no readable reference solution found")


_load_reference()  # at import: every process that imports this module (spawn and forkserver workers too) delegates
