"""The ``litsynth`` command line: argument parsing, messages and exit codes only.

Exit codes:

* 0 — success: ``build`` built every question; ``refresh`` retrieved every one asked for;
  ``check`` found no problem;
* 1 — a problem in the input (question files, ``--library`` files: every problem is
  printed as ``path:line:column: what is wrong — what is allowed``, and nothing is
  written), a failed mkdocs build, a ``--strict`` violation, or at least one question
  that could not be built or refreshed (the others are built and the index page names
  the failures);
* 2 — usage errors (argparse);
* 130 — interrupted (Ctrl-C or SIGTERM). ``site/`` and every snapshot are then each either
  as before or completely replaced, never half-written.

Warnings (unresolved ``include:``/``cites:`` identifiers, skipped corpus lines, stale
snapshots) go to stderr prefixed ``warning:``; on a terminal, a progress line per question
goes to stderr too.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path

from generator import __version__
from generator.errors import InputError, LitsynthError

MAX_WARNINGS_SHOWN = 20
"""Warnings printed per run before the rest are summarised (a corpus with thousands of bad
lines would otherwise bury the result); ``-v`` shows every one."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="litsynth", description="Verified literature syntheses as a static site.")
    parser.add_argument("--version", action="version", version=f"litsynth {__version__}")
    parser.add_argument("--root", type=Path, default=Path("."), help="project folder (default: current)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and every warning")
    # -v is also accepted after the command ("litsynth build -v"); SUPPRESS keeps a -v given
    # before the command from being reset by the subcommand's default.
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                         help="log progress and every warning")
    sub = parser.add_subparsers(dest="command", required=True)

    def retrieval_args(p):
        p.add_argument("--library", type=Path, action="append", default=[], metavar="PATH",
                       help="local corpus file (.jsonl, .jsonl.gz, CSL-JSON .json, .bib); repeatable")
        p.add_argument("--offline", action="store_true", help="never use network providers")

    p = sub.add_parser("build", parents=[verbose], help="retrieve what has no snapshot, then build the site")
    retrieval_args(p)
    p.add_argument("--strict", action="store_true",
                   help="fail when a synthesis's counts do not add up or an include:/cites: identifier "
                        "is not found")
    p.add_argument("--force", action="store_true",
                   help="recompute every claim set and rerun mkdocs, ignoring the cache")
    p.add_argument("--jobs", type=_positive_int, default=None, metavar="N",
                   help="processes computing claim sets at once, this one included (default: one per CPU)")
    p = sub.add_parser("refresh", parents=[verbose], help="re-run retrieval and rewrite snapshots")
    retrieval_args(p)
    p.add_argument("slugs", nargs="*", help="question slugs (default: all)")
    sub.add_parser("check", parents=[verbose], help="validate question files without building")
    p = sub.add_parser("new", parents=[verbose], help="scaffold a question file")
    p.add_argument("question", help="the research question, in quotes")
    p = sub.add_parser("eval", help="measure the verifier")
    eval_sub = p.add_subparsers(dest="benchmark", required=True)
    p = eval_sub.add_parser("scifact", parents=[verbose], help="official SciFact metrics on SciFact claims")
    from generator.evaluate import add_eval_arguments
    add_eval_arguments(p)
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at emit time (tests replace it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def _configure_logging(verbose: bool) -> None:
    level = logging.INFO if verbose else logging.WARNING
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    # Filter at the handler: some libraries (bm25s) set their own loggers to DEBUG on import.
    handler.setLevel(level)
    root.setLevel(min(root.level or logging.WARNING, level))
    # Corpus warnings are collected in the report and printed from there (all with -v).
    logging.getLogger("generator.providers.library").setLevel(logging.ERROR)
    # The BibTeX reader reports each block bibtexparser could not parse itself (with the file).
    logging.getLogger("bibtexparser").setLevel(logging.INFO if verbose else logging.ERROR)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C so that children (mkdocs) are stopped too."""


def _on_sigterm(signum, frame):
    raise _Terminated()


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (see module docstring)."""
    args = _parser().parse_args(argv)
    _configure_logging(args.verbose)
    previous = signal.getsignal(signal.SIGTERM)
    in_main_thread = _install_sigterm()
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
    except BrokenPipeError:
        # The reader of our output went away (`litsynth eval … | head`): stop quietly, as
        # the Python documentation advises (signal module, "Note on SIGPIPE").
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print("litsynth: interrupted; site/ and every snapshot are as before or completely replaced, "
              "never half-written.", file=sys.stderr)
        return 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _install_sigterm() -> bool:
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
        return True
    except ValueError:  # not the main thread (e.g. called from a worker in tests)
        return False


def _progress():
    if not sys.stderr.isatty():
        return None

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)
    return say


def _print_warnings(warnings: list[str], verbose: bool) -> None:
    shown = warnings if verbose else warnings[:MAX_WARNINGS_SHOWN]
    for warning in shown:
        print(f"warning: {warning}", file=sys.stderr)
    if len(shown) < len(warnings):
        print(f"warning: … and {len(warnings) - len(shown)} more warning(s); run with -v to see them all",
              file=sys.stderr)


def _dispatch(args: argparse.Namespace) -> int:
    root = args.root.resolve()
    if args.command == "check":
        from generator.questions import load_questions
        questions = load_questions(root / "content" / "questions", root=root)
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

    from generator import pipeline
    options = pipeline.Options(root=root, libraries=pipeline.distinct_files(args.library), offline=args.offline,
                               strict=getattr(args, "strict", False), force=getattr(args, "force", False),
                               progress=_progress(), jobs=getattr(args, "jobs", None))
    report = pipeline.refresh(options, args.slugs) if args.command == "refresh" else pipeline.build(options)
    # Warnings first: after the closing "Site written" line they are easy to miss.
    _print_warnings(report.warnings, args.verbose)
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.command == "refresh":
        for slug in report.retrieved:
            print(f"refreshed {slug}")
    else:
        for slug in report.built:
            print(f"built {slug}" + (" (unchanged)" if slug in report.cached else ""))
        print(f"Site written to {report.site}" + ("" if report.mkdocs_ran else " (already up to date)"))
    if args.verbose:
        print("timings: " + ", ".join(f"{k} {v:.3f} s" for k, v in report.timings.items()), file=sys.stderr)
    for slug, reason in report.failed.items():
        kept = " (the page of its last successful build is kept, marked as such)" if slug in report.kept else ""
        print(f"failed {slug}: {reason}{kept}", file=sys.stderr)
    return 1 if report.failed else 0
