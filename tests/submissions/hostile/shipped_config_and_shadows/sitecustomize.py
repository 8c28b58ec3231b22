"""Hostile: would run in every interpreter that has this folder on its path at start-up."""
import os

open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "sitecustomize-ran.txt"), "w").close()
