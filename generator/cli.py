"""The ``litsynth`` command line: argument parsing and exit codes only.

Exit codes: 0 success; 1 a problem in the input (question files, corpus files) or a
failed build; 2 usage errors (argparse).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from generator import __version__
from generator.errors import InputError, LitsynthError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="litsynth", description="Verified literature syntheses as a static site.")
    parser.add_argument("--version", action="version", version=f"litsynth {__version__}")
    parser.add_argument("--root", type=Path, default=Path("."), help="project folder (default: current)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)

    def retrieval_args(p):
        p.add_argument("--library", type=Path, action="append", default=[], metavar="PATH",
                       help="local corpus file (.jsonl, .jsonl.gz, CSL-JSON .json, .bib); repeatable")
        p.add_argument("--offline", action="store_true", help="never use network providers")

    p = sub.add_parser("build", help="retrieve what has no snapshot, then build the site")
    retrieval_args(p)
    p.add_argument("--strict", action="store_true", help="fail when a synthesis's counts do not add up")
    p = sub.add_parser("refresh", help="re-run retrieval and rewrite snapshots")
    retrieval_args(p)
    p.add_argument("slugs", nargs="*", help="question slugs (default: all)")
    sub.add_parser("check", help="validate question files without building")
    p = sub.add_parser("new", help="scaffold a question file")
    p.add_argument("question", help="the research question, in quotes")
    p = sub.add_parser("eval", help="measure the verifier")
    eval_sub = p.add_subparsers(dest="benchmark", required=True)
    p = eval_sub.add_parser("scifact", help="official SciFact metrics on SciFact claims")
    from generator.evaluate import add_eval_arguments
    add_eval_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # bm25s sets its own logger to DEBUG when imported; import it first, then quieten it.
    import bm25s  # noqa: F401
    logging.getLogger("bm25s").setLevel(logging.INFO if args.verbose else logging.WARNING)
    try:
        return _dispatch(args)
    except InputError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found; nothing was written.", file=sys.stderr)
        return 1
    except LitsynthError as exc:
        print(f"litsynth: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("litsynth: interrupted; the previous site and snapshots are unchanged.", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    from generator import pipeline

    root = args.root.resolve()
    if args.command == "check":
        from generator.questions import load_questions
        questions = load_questions(root / "content" / "questions")
        print(f"{len(questions)} question file(s) OK.")
        return 0
    if args.command == "new":
        from generator.questions import scaffold, scaffold_slug
        target = root / "content" / "questions" / f"{scaffold_slug(args.question)}.yaml"
        if target.exists():
            print(f"litsynth: {target} already exists; nothing was written.", file=sys.stderr)
            return 1
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(scaffold(args.question), encoding="utf-8")
        print(f"Wrote {target}. Edit its facets and queries, then run the build.")
        return 0
    if args.command == "eval":
        from generator.evaluate import main_eval
        return main_eval(args)
    options = pipeline.Options(root=root, libraries=args.library, offline=args.offline,
                               strict=getattr(args, "strict", False))
    if args.command == "refresh":
        report = pipeline.refresh(options, args.slugs)
        for slug in report.retrieved:
            print(f"refreshed {slug}")
    else:
        report = pipeline.build(options)
        for slug in report.built:
            print(f"built {slug}")
        print(f"Site written to {report.site}")
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for slug, reason in report.failed.items():
        print(f"failed {slug}: {reason}", file=sys.stderr)
    return 1 if report.failed and not report.built and args.command == "build" else (1 if report.failed and args.command == "refresh" else 0)
