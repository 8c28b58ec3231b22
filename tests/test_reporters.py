"""The pure reporters: whole points, Markdown feedback, Canvas's gradebook, Classroom 50's identity."""
from __future__ import annotations

import csv
import io

import pytest

from mpgrade.reporters import canvas, classroom50, markdown
from mpgrade.reporters.points import round_half_up, whole_points


def _check(score, max_score, status=None, name="c", feedback="", hidden=False):
    status = status or ("passed" if score == max_score else "failed")
    check = {"name": name, "id": f"x::{name}", "status": status, "score": score, "max_score": max_score,
             "feedback": feedback, "duration_s": 0.1}
    if hidden:
        check["hidden"] = True
    return check


def _report(*checks, exercise="ex02_pool"):
    score = sum(c["score"] for c in checks if c["status"] != "skipped")
    most = sum(c["max_score"] for c in checks if c["status"] != "skipped")
    return {"schema": "mpgrade-report/1", "submission": "s", "score": score, "max_score": most,
            "environment": {"start_method": "spawn", "seed": 1},
            "exercises": {exercise: {"score": score, "max_score": most, "checks": list(checks)}}}


@pytest.mark.parametrize("scores, expected", [
    ([(2, 2), (1, 1), (0, 3)], [2, 1, 0]),                  # whole points stay as they are
    ([(2.63, 3), (2, 2), (1, 1)], [3, 2, 1]),               # 5.63 -> 6
    ([(0.5, 1), (0.5, 1), (0.5, 1)], [1, 1, 0]),            # 1.5 -> 2, not 0 (each rounded down) or 3 (up)
    ([(2.4, 3), (0.3, 1)], [3, 0]),                         # 2.7 -> 3: the larger remainder gets it
    ([(2.45, 3), (0, 1)], [2, 0]),                          # 2.45 -> 2
    ([(3, 3), (0.5, 1)], [3, 1]),                           # a full check never goes over its maximum
])
def test_whole_points_add_up_to_the_rounded_total_and_stay_within_each_check(scores, expected):
    checks = [_check(score, most) for score, most in scores]
    points = whole_points(checks)
    assert points == expected
    assert sum(points) == round_half_up(sum(score for score, _ in scores))
    assert all(0 <= p <= most for p, (_, most) in zip(points, scores))


def test_classroom50_result_takes_identity_from_the_runners_variables_and_whole_points():
    env = {"CLASSROOM": "cs101", "ASSIGNMENT": "mp", "SUBMISSION_TAG": "submit/2026-11-23T10-00-00Z-abc1234",
           "COMMIT_URL": "https://github.com/cs101/mp-alice/commit/abc", "RELEASE_URL": "https://r",
           "GITHUB_REPOSITORY": "cs101/mp-alice"}
    result = classroom50.result(_report(_check(2.63, 3, "failed", "speedup", "1.3x of 1.8x"), _check(7, 7)), env)
    assert (result["classroom"], result["assignment"], result["submission"]) == ("cs101", "mp", env["SUBMISSION_TAG"])
    assert result["review"] == env["COMMIT_URL"]  # no REVIEW_URL: the commit, as Classroom 50's templates do
    assert (result["score"], result["max-score"]) == (10, 10)
    assert [(t["score"], t["max-score"], t["passed"]) for t in result["tests"]] == [(3, 3, False), (7, 7, True)]
    assert all(type(t["score"]) is int for t in result["tests"]) and type(result["score"]) is int
    assert result["tests"][0]["feedback"] == "1.3x of 1.8x"
    assert classroom50.identity({})["classroom"] is None  # only the runner can say who is graded


def test_markdown_feedback_fences_code_and_can_leave_hidden_checks_out():
    report = _report(_check(0, 1, name="guard", feedback='add `if __name__ == "__main__":` ```'),
                     _check(0, 4, name="secret", feedback="hidden text", hidden=True), _check(5, 5, name="ok"))
    text = markdown.feedback(report)
    assert "## mpgrade: 5 / 10" in text and "| ex02_pool | guard | ❌ failed | 0 / 1 |" in text
    assert '````text\nadd `if __name__ == "__main__":` ```\n````' in text  # a fence longer than any run inside
    shown = markdown.feedback(report, visible_only=True)
    assert "secret" not in shown and "hidden text" not in shown
    assert "## mpgrade: 5 / 6 in the checks you can see" in shown


def test_canvas_gradebook_follows_canvas_importers_rules():
    roster = canvas.read_roster("\ufeffStudent,ID,SIS User ID,SIS Login ID,Section\n"
                                "    Points Possible,,,,\n"
                                "\"Student, Test\",1,,,\n"
                                "\"Doe, Jane\",77,S-7,jdoe@uni.edu,Sec 2\n")
    assert [row["ID"] for row in roster] == ["77"]  # neither the points row nor the test student
    text, missing = canvas.gradebook([canvas.Grade("JDoe", 9.5), canvas.Grade("sam", None)], "MP (12)", 10, roster)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["Student", "ID"] and rows[0][4] == "Section"  # what the importer checks
    assert "Points Possible" in rows[1][0] and rows[1][5] == "10"
    assert rows[2] == ["Doe, Jane", "77", "S-7", "jdoe@uni.edu", "Sec 2", "9.5"]  # matched by login, any case
    assert rows[3] == ["sam", "", "", "sam", "", ""]  # not graded: blank, which Canvas leaves unchanged
    assert missing == ["sam"]
    with pytest.raises(ValueError, match="gradebook export"):
        canvas.read_roster("name,score\nx,1\n")
