#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image (Ubuntu): the kit, with its
# dependencies, in a virtual environment that run_autograder switches to.
set -euo pipefail
apt-get update -qq && apt-get install -y -qq python3 python3-pip python3-venv
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q -e /autograder/source
