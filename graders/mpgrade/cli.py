"""The ``mpgrade`` command: one small function per verb (trusted side).

Each verb parses its options and calls the module that does the work
(``mpgrade check``: :func:`mpgrade.grading.command.grade`, which runs the kit's own
graders with pytest in a child process; ``grade``: :mod:`mpgrade.batch.grade`;
``release``/``export``: :mod:`mpgrade.course.release`, :mod:`mpgrade.course.exports`).
It runs past 300 lines only for the argument parser: every verb's options
and their help in one place.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from mpgrade.course import curriculum
from mpgrade.grading import console, report
from mpgrade.sandbox import machine
from mpgrade.grading.command import grade
from mpgrade.settings import KIT_ROOT, START_METHODS
from mpgrade.course.stubs import MarkerError, generate

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3


def _submission(path: str) -> Path | None:
    submission = Path(path).expanduser().resolve()
    if not submission.is_dir():
        print(f"mpgrade: submission folder {submission} does not exist", file=sys.stderr)
        return None
    return submission


def _confinement_first_line(args: argparse.Namespace) -> bool:
    """Say first when student code will not be confined here; False (after saying why) when it must be and
    cannot. ``--require-confinement`` passes on to the grading processes as MPGRADE_REQUIRE_CONFINEMENT."""
    from mpgrade.sandbox import confinement

    if getattr(args, "require_confinement", False):
        os.environ["MPGRADE_REQUIRE_CONFINEMENT"] = "yes"
    required = os.environ.get("MPGRADE_REQUIRE_CONFINEMENT", "no").lower() in ("yes", "true", "1")
    sandbox = confinement.from_environment()
    if required and confinement.refusal(sandbox):
        print(f"mpgrade: {confinement.refusal(sandbox)}", file=sys.stderr)
        return False
    warning = confinement.unconfined_warning(sandbox)
    if warning:
        print(warning, flush=True)
    return True


MAX_DEFAULT_WORKERS = 4
"""More xdist workers than this each pay pytest's start-up for a handful of checks."""


def default_workers(exercises: int, usable_cpus: int) -> str | None:
    """pytest-xdist workers for ``mpgrade check`` when ``-n`` is not given: one per usable CPU, for 2+ exercises.

    A whole submission's checks run one after another on one core otherwise (benchmarks/submission.py:
    24.3 s serially, 15.9 s with two workers on 2 cores); a single exercise's few checks would not repay the
    workers' start-up. Speedup measurements still take their CPUs to themselves (cpulock), so a second
    worker's calls wait rather than disturb them.
    """
    workers = min(usable_cpus, MAX_DEFAULT_WORKERS, exercises)
    return str(workers) if workers >= 2 else None


def cmd_check(args: argparse.Namespace) -> int:
    submission = _submission(args.submission)
    if submission is None:
        return EXIT_USAGE
    report_path = Path(args.report).resolve() if args.report else None
    try:
        chosen = curriculum.select(args.exercises)
    except ValueError as problem:
        print(f"mpgrade: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if not _confinement_first_line(args):
        return EXIT_USAGE
    workers = args.workers or default_workers(len(chosen), machine.usable_cpus())
    try:
        graded = grade(submission, args.exercises, report_path, args.start_method, workers,
                       args.pytest_args, args.verbose, timeout_s=args.budget)
    except (RuntimeError, TimeoutError) as exc:
        print(f"mpgrade: {exc}", file=sys.stderr)
        if args.github_output:
            _github_output(None, args.exercises, f"The autograder could not grade this exercise: "
                                                 f"{str(exc).strip().splitlines()[-1]}")
        return EXIT_INTERNAL
    print(console.render(graded, verbose=args.verbose))
    if report_path:
        print(f"\nreport: {report_path}")
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_path:
        from mpgrade.reporters import markdown

        with open(summary_path, "a", encoding="utf-8") as handle:
            handle.write(markdown.feedback(graded))
    if args.github_output:
        _github_output(graded, args.exercises)
        return EXIT_OK  # graded: the reporter step, not this one, fails the job for failed checks
    return EXIT_OK if report.all_passed(graded) else EXIT_FAILED


def _github_output(graded: dict | None, exercises: list[str], problem: str = "") -> None:
    """Each exercise's reporter payload as a step output (``$GITHUB_OUTPUT``), or an error payload for each."""
    from mpgrade.reporters import classroom

    path = os.environ.get("GITHUB_OUTPUT")
    if not path:
        print("mpgrade: --github-output: GITHUB_OUTPUT is not set (not inside a GitHub Actions step?)",
              file=sys.stderr)
        return
    if graded is not None:
        text = classroom.step_outputs(graded)
    else:
        points = curriculum.points_of()
        text = classroom.error_outputs({name: points[name] for name in curriculum.select(exercises)}, problem)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


def cmd_demo(args: argparse.Namespace) -> int:
    """Grade the bundled solutions and the untouched stubs: full marks and zero are what must come out."""
    results = {}
    for label in ("solutions", "exercises"):
        try:
            results[label] = grade(KIT_ROOT / label, args.exercises, start_method=args.start_method)
        except RuntimeError as exc:
            print(f"mpgrade: {exc}", file=sys.stderr)
            return EXIT_INTERNAL
        print(console.render(results[label]))
        print()
    solutions, stubs = results["solutions"], results["exercises"]
    full = solutions["score"] == solutions["max_score"] > 0
    print(f"reference solutions: {solutions['score']:g}/{solutions['max_score']:g}   "
          f"untouched stubs: {stubs['score']:g}/{stubs['max_score']:g}")
    return EXIT_OK if full and stubs["score"] == 0 else EXIT_FAILED


def _roster(path: str | None) -> list[dict[str, str]] | None:
    from mpgrade.reporters.canvas import read_roster

    return read_roster(Path(path).read_text(encoding="utf-8-sig")) if path else None


def cmd_grade(args: argparse.Namespace) -> int:
    from mpgrade.batch.grade import grade_class, summary_text
    from mpgrade.batch.shards import resolve

    if not _confinement_first_line(args):
        return EXIT_USAGE
    try:
        shard = resolve(args.shard, os.environ)
        summary = grade_class(Path(args.submissions), Path(args.out), workers=args.workers,
                              only=[s for s in (args.only or "").split(",") if s], force=args.force, shard=shard,
                              exercises=[e for e in (args.exercises or "").split(",") if e],
                              budget_s=args.budget, canvas_assignment=args.canvas_assignment,
                              roster=_roster(args.canvas_roster))
    except (ValueError, OSError) as problem:
        print(f"mpgrade grade: {problem}", file=sys.stderr)
        return EXIT_USAGE
    print(summary_text(summary))
    print(f"gradebook: {Path(args.out) / 'gradebook.csv'}")
    return EXIT_OK


def cmd_merge(args: argparse.Namespace) -> int:
    from mpgrade.batch.grade import summary_text, write_gradebook

    try:
        summary = write_gradebook([Path(p) for p in args.results], Path(args.out), args.canvas_assignment,
                                  _roster(args.canvas_roster))
    except (ValueError, OSError) as problem:
        print(f"mpgrade merge: {problem}", file=sys.stderr)
        return EXIT_USAGE
    print(summary_text(summary))
    print(f"gradebook: {Path(args.out) / 'gradebook.csv'}")
    return EXIT_FAILED if summary["missing"] else EXIT_OK


def _names(text: str | None) -> list[str] | None:
    return curriculum.select([e for e in (text or "").split(",") if e]) if text else None


def cmd_release(args: argparse.Namespace) -> int:
    from mpgrade.course.release import release

    try:
        written = release(Path(args.out), names=_names(args.exercises))
    except (FileExistsError, ValueError) as problem:
        print(f"mpgrade release: {problem}", file=sys.stderr)
        return EXIT_USAGE
    print(f"wrote {len(written)} files to {args.out}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from mpgrade.course import exports

    try:
        names = _names(args.exercises)
    except ValueError as problem:
        print(f"mpgrade export: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if args.platform == "github-actions":
        target = Path(args.out or ".") / ".github" / "workflows" / "classroom.yml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(exports.workflow(names), encoding="utf-8")
    elif args.platform == "classroom50":
        target = exports.classroom50(Path(args.out or "."), names, budget_s=args.budget)
    else:
        target = exports.gradescope(Path(args.out or "mpgrade-gradescope.zip"))
    print(f"wrote {target}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from mpgrade.reporters import classroom, classroom50, gradescope, markdown

    try:
        graded = report.load(Path(args.report))
    except (OSError, ValueError) as problem:
        print(f"mpgrade report: {problem}", file=sys.stderr)
        return EXIT_USAGE
    exercise = None
    if args.exercise:
        matches = [name for name in graded["exercises"] if name == args.exercise or name.startswith(args.exercise + "_")]
        exercise = matches[0] if matches else args.exercise
    if args.format == "classroom":
        text = classroom.encoded(graded, exercise) + "\n"
    elif args.format == "gradescope":
        text = json.dumps(gradescope.results(graded, 0), indent=2) + "\n"
    elif args.format == "classroom50":
        text = json.dumps(classroom50.result(graded), indent=2) + "\n"
    elif args.format in ("markdown", "summary"):
        text = markdown.feedback(graded)
    else:
        text = console.render(graded) + "\n"
    if args.out:
        report.write_text(Path(args.out), text)
    else:
        print(text, end="")
    return EXIT_OK


def cmd_stubs(args: argparse.Namespace) -> int:
    try:
        stale = generate(Path(args.solutions), Path(args.out), check_only=args.check, table=curriculum.table())
    except MarkerError as exc:
        print(f"mpgrade stubs: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.check:
        for name in stale:
            print(f"{name}: the stub in {args.out} differs from the one generated from {args.solutions}")
        return EXIT_FAILED if stale else EXIT_OK
    for name in stale:
        print(f"wrote {Path(args.out) / name}")
    return EXIT_OK


def _canvas_options(parser: argparse.ArgumentParser) -> None:
    from mpgrade.batch.grade import CANVAS_ASSIGNMENT

    parser.add_argument("--canvas-assignment", default=CANVAS_ASSIGNMENT,
                        help="canvas.csv's assignment column: a title, or 'Title (id)' for an existing Canvas "
                             "assignment (default: %(default)s)")
    parser.add_argument("--canvas-roster", help="the course's Canvas gradebook export (CSV): canvas.csv then carries "
                                                "each student's Canvas ID, SIS IDs and section")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mpgrade", description="Teach and grade Python multiprocessing.")
    verbs = parser.add_subparsers(dest="verb", required=True)

    check = verbs.add_parser("check", help="grade a submission (your exercises/ by default) and print the points")
    check.add_argument("exercises", nargs="*", help="exercises to check, e.g. ex01 (default: all)")
    check.add_argument("--submission", default=str(KIT_ROOT / "exercises"),
                       help="folder with the exercise modules (default: %(default)s)")
    check.add_argument("--report", help="also write the report v1 JSON here")
    check.add_argument("--start-method", choices=START_METHODS + ("all",),
                       help="start method for your code (default: forkserver on Linux, as Python 3.14 there; spawn "
                            "elsewhere, as on macOS and Windows; both need the same guard and picklable "
                            "targets); all: every check under fork, spawn and forkserver")
    check.add_argument("-n", "--workers",
                       help="grade with this many pytest-xdist workers (e.g. 2, auto; 0: all in one process; "
                            "default: one per usable CPU, at most 4, when grading two exercises or more)")
    check.add_argument("-v", "--verbose", action="store_true",
                       help="also show pytest's output, and the timeline of passed checks")
    check.add_argument("--budget", type=float,
                       help="stop grading after this many seconds (exit code 3; default: no limit)")
    check.add_argument("--github-output", action="store_true",
                       help="in a GitHub Actions step: write each exercise's autograding-reporter payload to "
                            "$GITHUB_OUTPUT (output name = runner id, e.g. ex01) and exit 0 whenever grading "
                            "produced a report")
    check.add_argument("--require-confinement", action="store_true",
                       help="refuse to grade unless student code is confined (bubblewrap or Landlock)")
    check.add_argument("--pytest-args", nargs=argparse.REMAINDER, default=[],
                       help="pass the rest of the line to pytest")
    check.set_defaults(run=cmd_check)

    demo = verbs.add_parser("demo", help="grade the bundled solutions and stubs (full marks and zero expected)")
    demo.add_argument("exercises", nargs="*", help="exercises to grade (default: all)")
    demo.add_argument("--start-method", choices=START_METHODS)
    demo.set_defaults(run=cmd_demo)

    grade_ = verbs.add_parser("grade", help="grade a whole class: one folder or zip per student")
    grade_.add_argument("submissions", help="folder with one sub-folder or .zip per student")
    grade_.add_argument("--out", required=True, help="results folder (gradebook.csv, summary.json, students/)")
    grade_.add_argument("--workers", type=int,
                        help="students graded at once (default: usable CPUs + 1, fewer if memory is short)")
    grade_.add_argument("--only", help="regrade just these students, e.g. alice,bob")
    grade_.add_argument("--force", action="store_true", help="regrade students whose files have not changed")
    grade_.add_argument("--shard", help="grade the I-th of N deterministic slices of the class: I/N (e.g. 2/4); auto "
                        "(from SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX or MPGRADE_SHARD_INDEX, with their counts; "
                        "also the default where one is set); all (the whole class)")
    grade_.add_argument("--exercises", help="grade only these exercises, e.g. ex01,ex05 (default: all)")
    grade_.add_argument("--budget", type=float, default=900.0,
                        help="seconds one student's grading may take before it is stopped (default: %(default)s)")
    grade_.add_argument("--require-confinement", action="store_true",
                        help="refuse to grade unless student code is confined (bubblewrap or Landlock)")
    _canvas_options(grade_)
    grade_.set_defaults(run=cmd_grade)

    merge = verbs.add_parser("merge", help="combine results folders (shards) into one gradebook; exit 1 if a student "
                             "has no grade yet")
    merge.add_argument("results", nargs="+", help="results folders written by mpgrade grade")
    merge.add_argument("--out", required=True)
    _canvas_options(merge)
    merge.set_defaults(run=cmd_merge)

    release_ = verbs.add_parser("release", help="write the student-facing repository (no solutions, no hidden tests)")
    release_.add_argument("out")
    release_.add_argument("--exercises", help="only these exercises, e.g. ex01,ex05 (default: all)")
    release_.set_defaults(run=cmd_release)

    export = verbs.add_parser("export", help="write what a grading platform needs")
    export.add_argument("platform", choices=("github-actions", "classroom50", "gradescope"))
    export.add_argument("out", nargs="?", help="folder (github-actions, classroom50) or zip path (gradescope)")
    export.add_argument("--exercises", help="the assignment's exercises, e.g. ex01,ex05 (default: all; "
                                            "github-actions and classroom50)")
    export.add_argument("--budget", type=float, default=720.0,
                        help="classroom50: seconds of grading inside the 15-minute job (default: %(default)s)")
    export.set_defaults(run=cmd_export)

    report_ = verbs.add_parser("report", help="turn a report v1 into another format")
    report_.add_argument("report", help="a report v1 JSON file")
    report_.add_argument("--format", choices=("table", "classroom", "gradescope", "classroom50", "markdown",
                                              "summary"), default="table",
                         help="summary is another name for markdown (the student's feedback, as in the job summary)")
    report_.add_argument("--out", help="write to this file (atomically) instead of printing")
    report_.add_argument("--exercise", help="with --format classroom: one exercise's runner payload")
    report_.set_defaults(run=cmd_report)

    stubs = verbs.add_parser("stubs", help="generate student stubs from solutions with solution markers")
    stubs.add_argument("--solutions", default=str(KIT_ROOT / "solutions"))
    stubs.add_argument("--out", default=str(KIT_ROOT / "exercises"))
    stubs.add_argument("--check", action="store_true",
                       help="write nothing; exit 1 if a committed stub differs from the generated one")
    stubs.set_defaults(run=cmd_stubs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
