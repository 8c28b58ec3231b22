"""What a class got wrong: the failed checks' causes counted across students (trusted side; data in, data out).

Report v1 gives every failed check a cause code (``mpgrade.verdicts.causes``);
an instructor wants "14 students read exitcode before join()", with where it
happened and what one of those students read, not which check failed most.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from mpgrade.verdicts import causes


class Misconceptions:
    """What the class got wrong, by cause (report v1's ``checks[].cause``): how many students had each, in which
    exercises, and one example of the feedback with the student's name taken out."""

    def __init__(self) -> None:
        self.students: dict[str, set[str]] = {}
        self.exercises: dict[str, Counter] = {}
        self.examples: dict[str, dict[str, Any]] = {}

    def add(self, student: str, graded: dict[str, Any]) -> None:
        for name, exercise in graded["exercises"].items():
            for check in exercise["checks"]:
                code = check.get("cause")
                if check["status"] != "failed" or not code:
                    continue
                self.students.setdefault(code, set()).add(student)
                self.exercises.setdefault(code, Counter())[name] += 1
                if code not in self.examples:
                    text = check["feedback"]
                    for private in filter(None, (graded.get("submission"), student)):
                        text = text.replace(private, "<student>")
                    example = {"exercise": name, "check": check["name"], "feedback": text}
                    drawn = (check.get("details") or {}).get("timeline")
                    if drawn:
                        example["timeline"] = drawn
                    self.examples[code] = example

    def most_common(self, count: int) -> list[dict[str, Any]]:
        ranked = sorted(self.students, key=lambda code: (-len(self.students[code]), code))[:count]
        return [{"cause": code, "title": causes.title(code), "students": len(self.students[code]),
                 "exercises": dict(self.exercises[code].most_common()), "example": self.examples[code]}
                for code in ranked]
