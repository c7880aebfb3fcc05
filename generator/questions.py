"""Load and validate question files (DESIGN §2): one YAML file per research question.

The loader is strict and reports every problem of a file at once, each located as
``path:line:column`` (see :class:`generator.errors.Problem`):

* YAML is composed into a node tree with PyYAML (``CSafeLoader`` when libyaml is present,
  else ``SafeLoader``) and converted *by the schema*, never by YAML's implicit typing: a
  string field keeps ``NO``, ``10:00``, ``2024-12-19`` and ``1.10`` as written (the
  "Norway problem", cases YAML-01), and integers are read only where the schema asks for
  one (``search.since``, ``search.max_records``).
* Duplicate keys, unknown keys (with a did-you-mean and the allowed keys), tabs used for
  indentation, stray byte order marks, control characters, several documents in one file,
  over-deep nesting and files over :data:`MAX_BYTES` are errors (cases YAML-03/04/05/07).
* The page slug comes from the file name (:func:`slugify`); two files giving one slug, or a
  slug that would overwrite a fixed page of the site, are errors (case MD-06).

Public API: :func:`load_question`, :func:`load_questions`, :func:`slugify`,
:func:`scaffold`, :func:`scaffold_slug`.
"""

from __future__ import annotations

import bisect
import datetime
import difflib
import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from generator.errors import InputError, Problem
from generator.models import CuratedClaim, Question
from generator.providers import ALL_PROVIDERS, NETWORK_PROVIDERS
from generator.records import parse_identifier

MAX_BYTES = 262144
"""Largest accepted question file (256 KiB). A real question file is a few hundred bytes;
the cap bounds parse time and memory for pathological input (case YAML-07)."""

MAX_DEPTH = 32
"""Deepest accepted nesting of YAML collections. The schema needs 4 levels
(file → claims → claim → cites); anything deeper is a mistake or an attack, and stopping
early keeps the pure-Python composer far from the interpreter's recursion limit."""

_WINDOWS_DEVICES = frozenset({"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(1, 10)}
                             | {f"lpt{i}" for i in range(1, 10)})
RESERVED_SLUGS = frozenset({"index", "assets", "search", "tags", "404", "method", "performance", "sitemap",
                            "claim-set-schema"}) | _WINDOWS_DEVICES
"""Slugs that would overwrite a page or folder the site generator writes itself, or that
name a Windows device (a site checked out on Windows could not hold ``con.md``)."""

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_YAML_TAG = "tag:yaml.org,2002:"
_NULL = _YAML_TAG + "null"
_SCALAR_TAGS = frozenset(_YAML_TAG + t for t in ("str", "bool", "int", "float", "timestamp", "null"))
_SEQ_TAG = _YAML_TAG + "seq"
_MAP_TAG = _YAML_TAG + "map"

# YAML 1.1 line breaks, as PyYAML and libyaml count lines in their marks.
_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")
# YAML 1.1 printable characters (spec §5.1); PyYAML's Reader uses the same set.
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LEADING_WS = re.compile(r"[ \t]*")
_INT = re.compile(r"[+-]?[0-9]{1,9}")
_MAX_REPEATED = 20  # per kind of character-level problem; the rest are summarised

_IDENT_HINT = "is not an arXiv id or DOI — write e.g. 'arXiv:2309.06256' or 'doi:10.1234/x'"


# --------------------------------------------------------------------------- schema


@dataclass(frozen=True)
class _Text:
    """A non-empty string; surrounding whitespace is stripped (``collapse`` joins runs)."""

    collapse: bool = False
    sentence: bool = False  # must read as one complete sentence (a curated claim)
    words: bool = False  # must hold a letter (a question: "42" is not one)


_WORD_OF_LETTERS = re.compile(r"[^\W\d_]")
"""A letter, in any script: what a research question cannot lack ("42", "???")."""
_COMPLETE_SENTENCE = re.compile(r"^[^\W_].*[.!?][\"')\]\u201d\u2019]*$", re.S)


@dataclass(frozen=True)
class _Int:
    lo: int
    hi: int
    what: str


@dataclass(frozen=True)
class _Bool:
    """A yes/no switch. No key uses it yet; kept so a new switch is one schema line."""


@dataclass(frozen=True)
class _Choice:
    choices: tuple[str, ...]
    noun: str


@dataclass(frozen=True)
class _Ident:
    """An identifier accepted by :func:`generator.records.parse_identifier`."""


@dataclass(frozen=True)
class _List:
    """A list of ``item``; ``default`` (when set) names what an absent key means, and an
    empty list is then an error rather than silently meaning the default."""

    item: Any
    what: str
    default: str | None = None
    # For items that must not repeat: item value → comparison key, and what one is called.
    unique: Callable[[Any], Any] | None = None
    unique_what: str = ""


@dataclass(frozen=True)
class _Map:
    fields: tuple[tuple[str, Any], ...]
    required: tuple[str, ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.fields)


_SEARCH = _Map(fields=(
    ("queries", _List(_Text(collapse=True), "a list of search queries, e.g. [\"alignment tax RLHF\"]",
                      default="the title as the only query")),
    ("providers", _List(_Choice(ALL_PROVIDERS, "provider"), "a list of providers, e.g. [arxiv, openalex]",
                        default="all keyless providers: " + ", ".join(NETWORK_PROVIDERS))),
    ("since", _Int(1900, 2100, "a year (integer 1900–2100)")),
    ("max_records", _Int(1, 10000, "an integer 1–10000")),
))
_CLAIM = _Map(
    fields=(("text", _Text(collapse=True, sentence=True)), ("cites", _List(_Ident(), "a list of identifiers"))),
    required=("text",),
)
_QUESTION = _Map(
    fields=(
        ("title", _Text(collapse=True)),
        ("question", _Text(words=True)),
        ("facets", _List(_Text(collapse=True), "a list of strings, e.g. [RLHF, DPO]")),
        ("search", _SEARCH),
        ("include", _List(_Ident(), "a list of identifiers, e.g. [\"arXiv:2309.06256\"]")),
        # Two equal claims would be one claim id, shown twice under one page anchor.
        ("claims", _List(_CLAIM, "a list of claims, each a mapping with 'text' and 'cites'",
                         unique=lambda c: " ".join(c.get("text", "").split()).casefold() or id(c),
                         unique_what="claim (with all the sources it cites)")),
        ("tags", _List(_Text(collapse=True), "a list of strings, e.g. [alignment, evaluation]")),
    ),
    required=("title", "question"),
)

# Keys people plausibly write at the top level that belong elsewhere.
_TOP_LEVEL_HINTS = {
    "id": "the page slug comes from the file name, so 'id' is not needed",
    "slug": "the page slug comes from the file name",
    **{k: f"'{k}' belongs under 'search:'" for k in _SEARCH.keys},
}


# --------------------------------------------------------------------------- helpers


def _show(value: str, limit: int = 60) -> str:
    """``repr`` of user text, shortened, so tabs and odd characters stay visible."""
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return repr(value)


def _got(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == _NULL:
        return "an empty value" if node.value == "" else f"null ({_show(node.value)})"
    return _show(node.value)


def _at(where: str, message: str) -> str:
    return f"{where}: {message}" if where else message


def _display(path: Path, root: Path | None) -> str:
    """Path for messages: relative to ``root``, else to the working dir, when inside it."""
    absolute = Path(os.path.abspath(path))
    for base in ([root] if root is not None else []) + [Path.cwd()]:
        try:
            return os.fspath(absolute.relative_to(os.path.abspath(base)))
        except ValueError:
            continue
    return os.fspath(path)


class _Lines:
    """Offset → 1-based (line, column), counting YAML 1.1 line breaks like the parsers do."""

    def __init__(self, text: str):
        self.starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def locate(self, offset: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, offset) - 1
        return i + 1, offset - self.starts[i] + 1


def _mark(node_or_mark) -> tuple[int | None, int | None]:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    if mark is None:
        return None, None
    return mark.line + 1, mark.column + 1


# --------------------------------------------------------------------------- conversion


_BAD = object()


class _Converter:
    """Turns a node tree into plain values following a schema spec, collecting problems."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[Problem] = []
        # An alias makes one node appear many times; converting it once bounds the work
        # an alias-heavy file can cause (a "billion laughs" document) and reports its
        # problems once, at the node's own position.
        self.memo: dict[tuple[int, int], Any] = {}

    def problem(self, node_or_mark, message: str) -> None:
        line, col = _mark(node_or_mark)
        self.problems.append(Problem(self.path, line, col, message))

    def convert(self, node: Node, spec, where: str) -> Any:
        key = (id(node), id(spec))
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = _BAD  # a node reached again through itself is not valid input
        value = self._convert(node, spec, where)
        self.memo[key] = value
        return value

    def _convert(self, node: Node, spec, where: str) -> Any:
        if isinstance(spec, _Map):
            return self._map(node, spec, where)
        if isinstance(spec, _List):
            return self._list(node, spec, where)
        return self._scalar(node, spec, where)

    def _bad_tag(self, node: Node, where: str, allowed: frozenset[str] | str) -> bool:
        ok = node.tag in allowed if isinstance(allowed, frozenset) else node.tag == allowed
        if not ok:
            self.problem(node, _at(where, f"unsupported YAML tag {_show(node.tag)} — remove the tag"))
        return not ok

    def _map(self, node: Node, spec: _Map, where: str) -> Any:
        allowed = ", ".join(spec.keys)
        if not isinstance(node, MappingNode):
            if not where:
                self.problem(node, f"a question file is a mapping of keys ({allowed}), got {_got(node)}")
            else:
                self.problem(node, _at(where, f"expected a mapping with keys {allowed}, got {_got(node)}"))
            return _BAD
        if self._bad_tag(node, where, _MAP_TAG):
            return _BAD
        fields = dict(spec.fields)
        seen: dict[str, Node] = {}
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem(key_node, _at(where, f"a key must be a plain word, got {_got(key_node)}"))
                continue
            name = key_node.value
            if name in seen:
                first = seen[name].start_mark.line + 1
                self.problem(key_node, _at(where, f"duplicate key {_show(name)} (first defined at line {first})"))
                out.pop(name, None)  # neither value is trusted
                continue
            seen[name] = key_node
            if name not in fields:
                self.problem(key_node, _at(where, self._unknown_key(name, spec, top=not where)))
                continue
            value = self._optional(value_node, fields[name], _join(where, name), name in spec.required)
            if value is not _BAD:
                out[name] = value
        for name in spec.required:
            if name not in seen:
                self.problem(node, _at(where, f"missing required key {_show(name)}"))
        return out

    def _unknown_key(self, name: str, spec: _Map, top: bool) -> str:
        hint = _TOP_LEVEL_HINTS.get(name) if top else None
        close = difflib.get_close_matches(name.lower()[:100], spec.keys, n=1)
        allowed = ", ".join(spec.keys)
        if hint:
            return f"unknown key {_show(name)} — {hint}. Allowed keys: {allowed}"
        if close:
            return f"unknown key {_show(name)} — did you mean {_show(close[0])}? Allowed keys: {allowed}"
        return f"unknown key {_show(name)} — allowed keys: {allowed}"

    def _optional(self, node: Node, spec, where: str, required: bool) -> Any:
        # An empty optional list or block (`tags:` with nothing after it) reads as absent;
        # an empty required value or string is an error (handled in _scalar).
        if not required and isinstance(spec, (_List, _Map)) and _is_null(node):
            return _BAD
        return self.convert(node, spec, where)

    def _list(self, node: Node, spec: _List, where: str) -> Any:
        if not isinstance(node, SequenceNode):
            self.problem(node, _at(where, f"expected {spec.what}, got {_got(node)}"))
            return _BAD
        if self._bad_tag(node, where, _SEQ_TAG):
            return _BAD
        if not node.value and spec.default:
            self.problem(node, _at(where, f"empty list — remove the key to use the default ({spec.default})"))
            return _BAD
        items = []
        first: dict[Any, tuple[int, Node]] = {}
        reported: set[Any] = set()
        for i, child in enumerate(node.value):
            value = self.convert(child, spec.item, f"{where}[{i}]")
            if value is _BAD:
                continue
            if spec.unique is not None:
                key = spec.unique(value)
                if key in first:
                    if key not in reported:  # once per item: 50,000 aliases of one claim are one problem
                        reported.add(key)
                        j, earlier = first[key]
                        self.problem(child, _at(f"{where}[{i}]", f"repeats {where}[{j}] (line "
                                                                 f"{earlier.start_mark.line + 1}) — give each "
                                                                 f"{spec.unique_what} once"))
                    continue
                first[key] = (i, child)
            items.append(value)
        return items

    def _scalar(self, node: Node, spec, where: str) -> Any:
        want = _describe_scalar(spec)
        if not isinstance(node, ScalarNode):
            self.problem(node, _at(where, f"expected {want}, got {_got(node)}"))
            return _BAD
        if self._bad_tag(node, where, _SCALAR_TAGS):
            return _BAD
        if node.tag == _NULL:
            self.problem(node, _at(where, f"expected {want}, got {_got(node)}"))
            return _BAD
        raw = node.value
        if isinstance(spec, _Text):
            text = " ".join(raw.split()) if spec.collapse else raw.strip()
            if not text:
                self.problem(node, _at(where, f"expected {want}, got an empty string"))
                return _BAD
            if spec.words and not _WORD_OF_LETTERS.search(text):
                self.problem(node, _at(where, f"expected {want} in words, got {_show(raw)}"))
                return _BAD
            if spec.sentence and (len(text.split()) < 2 or not _COMPLETE_SENTENCE.match(text)):
                # A claim is checked and shown as a sentence; a fragment cannot be verified.
                self.problem(node, _at(where, f"expected a claim written as one complete sentence "
                                              f"ending with '.', '!' or '?', got {_show(raw)}"))
                return _BAD
            return text
        if isinstance(spec, _Int):
            text = raw.strip()
            if _INT.fullmatch(text) and spec.lo <= int(text) <= spec.hi:
                return int(text)
            self.problem(node, _at(where, f"expected {spec.what}, got {_show(raw)}"))
            return _BAD
        if isinstance(spec, _Bool):
            low = raw.strip().lower()
            if low in ("true", "yes"):
                return True
            if low in ("false", "no"):
                return False
            self.problem(node, _at(where, f"expected true or false, got {_show(raw)}"))
            return _BAD
        if isinstance(spec, _Choice):
            name = raw.strip().lower()
            if name in spec.choices:
                return name
            close = difflib.get_close_matches(name[:100], spec.choices, n=1)
            hint = f"did you mean {_show(close[0])}? Allowed" if close else "allowed"
            self.problem(node, _at(where, f"unknown {spec.noun} {_show(raw)} — {hint}: {', '.join(spec.choices)}"))
            return _BAD
        if isinstance(spec, _Ident):
            key = parse_identifier(raw)
            if key is None:
                self.problem(node, _at(where, f"{_show(raw.strip() or raw)} {_IDENT_HINT}"))
                return _BAD
            return key
        raise TypeError(f"unknown schema spec {spec!r}")  # a programming error, not input


def _describe_scalar(spec) -> str:
    if isinstance(spec, _Int):
        return spec.what
    if isinstance(spec, _Bool):
        return "true or false"
    if isinstance(spec, _Choice):
        return f"a {spec.noun} name ({', '.join(spec.choices)})"
    if isinstance(spec, _Ident):
        return "an identifier such as 'arXiv:2309.06256' or 'doi:10.1234/x'"
    return "a string"


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _NULL


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _unique(items) -> tuple:
    return tuple(dict.fromkeys(items))


def _unique_caseless(items) -> tuple:
    """First spelling of each item compared case- and space-insensitively: "Reasoning" and
    "reasoning " are one facet (screening compares stemmed lower-case terms anyway, and two
    would give the evidence gap map two identical columns)."""
    seen: dict[str, str] = {}
    for item in items:
        seen.setdefault(" ".join(item.split()).casefold(), item)
    return tuple(seen.values())


# --------------------------------------------------------------------------- text checks


def _decode(data: bytes, path: str) -> tuple[str | None, list[Problem]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start]
        return None, [Problem(path, line, column, f"file is not UTF-8 text (byte 0x{byte:02x}) — save it as UTF-8")]
    return text, []


def _character_problems(text: str, path: str) -> tuple[list[Problem], bool]:
    """Stray BOMs, control characters and tab indentation, found before parsing.

    Returns ``(problems, parseable)``: after control characters or tab indentation the
    parser's own messages would only confuse, so parsing is skipped. A tab inside the
    leading whitespace of a literal block is rejected too: question files have no need
    for one, and the rule stays simple to state.
    """
    lines = _Lines(text)
    problems: list[Problem] = []

    def report(offsets: list[int], message, summary: str) -> None:
        for offset in offsets[:_MAX_REPEATED]:
            line, col = lines.locate(offset)
            problems.append(Problem(path, line, col, message(text[offset])))
        if len(offsets) > _MAX_REPEATED:
            problems.append(Problem(path, None, None, f"{len(offsets) - _MAX_REPEATED} more {summary}"))

    boms = [m.start() for m in re.finditer("\ufeff", text)]
    report(boms, lambda _: "byte order mark (U+FEFF) inside the file — it is only allowed as the very "
           "first character; delete it (it often comes from joining two files)", "byte order marks")
    controls = [m.start() for m in _NON_PRINTABLE.finditer(text)]
    report(controls, lambda ch: f"control character U+{ord(ch):04X} is not allowed in YAML — delete it",
           "control characters")
    tabs = []
    for start in lines.starts:
        lead = _LEADING_WS.match(text, start).group()
        if "\t" in lead:
            tabs.append(start + lead.index("\t"))
    report(tabs, lambda _: "tab character used for indentation — YAML needs spaces", "lines indented with tabs")
    return problems, not (controls or tabs)


# --------------------------------------------------------------------------- parsing


def _yaml_problem(exc: yaml.YAMLError, path: str) -> Problem:
    """A located problem from a PyYAML/libyaml error, with its context in words."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        line, col = _mark(mark)
        parts = [exc.problem or exc.context or "cannot parse"]
        if exc.context and exc.problem:
            ctx = exc.context
            if exc.context_mark is not None and _mark(exc.context_mark) != _mark(mark):
                ctx += f" that started at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1}"
            parts.append(f"({ctx})")
        return Problem(path, line, col, "YAML syntax error: " + " ".join(parts))
    return Problem(path, None, None, f"YAML syntax error: {exc}")


def _scan(text: str, path: str) -> tuple[list[Problem], bool]:
    """Walk the YAML event stream once, without building anything.

    Finds syntax errors anywhere in the file, nesting deeper than :data:`MAX_DEPTH`
    (stopping at once, so ``'{' * 102400`` costs microseconds) and a second document.
    Returns ``(problems, composable)``.
    """
    depth = 0
    documents = 0
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    line, col = _mark(event)
                    return [Problem(path, line, col, f"nesting deeper than {MAX_DEPTH} levels — "
                                    "a question file needs at most 4")], False
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents == 2:
                    line, col = _mark(event)
                    return [Problem(path, line, col, "a second YAML document starts here — "
                                    "write one question per file")], True
    except yaml.YAMLError as exc:
        return [_yaml_problem(exc, path)], False
    except RecursionError:
        return [Problem(path, None, None, "YAML nesting too deep to parse")], False
    return [], True


def _compose(text: str, path: str) -> tuple[Node | None, list[Problem]]:
    """The node tree of the file's first document (``None`` for an empty file)."""
    loader = _LOADER(text)
    try:
        return (loader.get_node() if loader.check_node() else None), []
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc, path)]
    except RecursionError:
        # The pure-Python reader knows where it stopped; libyaml's loader has no such call.
        get_mark = getattr(loader, "get_mark", None)
        line, col = _mark(get_mark()) if get_mark else (None, None)
        return None, [Problem(path, line, col, "YAML nesting too deep to parse")]
    finally:
        loader.dispose()


_EMPTY = "empty file — a question file needs at least 'title' and 'question'"


def _parse(data: bytes, path: str, slug: str) -> tuple[Question | None, list[Problem]]:
    """Everything between the file's bytes and a :class:`Question`; never raises."""
    if len(data) > MAX_BYTES:
        return None, [Problem(path, None, None, f"file is {len(data)} bytes — the limit is {MAX_BYTES}")]
    text, problems = _decode(data, path)
    if text is None:
        return None, problems
    text = text.removeprefix("\ufeff")  # a leading BOM is how some editors mark UTF-8
    found, parseable = _character_problems(text, path)
    problems += found
    if not parseable:
        return None, problems
    text = text.replace("\ufeff", "")  # reported above; parse the rest as the author meant it
    found, composable = _scan(text, path)
    problems += found
    if not composable:
        return None, problems
    root, found = _compose(text, path)
    problems += found
    if found:
        return None, problems
    if root is None or _is_null(root):
        line, col = _mark(root) if root is not None else (None, None)
        return None, problems + [Problem(path, line, col, _EMPTY)]
    conv = _Converter(path)
    try:
        values = conv.convert(root, _QUESTION, "")
    except RecursionError:
        return None, problems + [Problem(path, None, None, "YAML nesting too deep to read")]
    problems += conv.problems
    if problems or values is _BAD:
        return None, problems
    return _build(values, slug, path), []


def _build(values: dict[str, Any], slug: str, path: str) -> Question:
    search = values.get("search", {})
    claims = tuple(
        CuratedClaim(text=c["text"], cites=_unique(c.get("cites", ()))) for c in values.get("claims", ())
    )
    return Question(
        slug=slug,
        path=path,
        title=values["title"],
        question=values["question"],
        facets=_unique_caseless(values.get("facets", ())),
        queries=_unique(search.get("queries") or (values["title"],)),
        providers=_unique(search.get("providers") or NETWORK_PROVIDERS),
        since=search.get("since"),
        max_records=search.get("max_records", 100),
        include=_unique(values.get("include", ())),
        claims=claims,
        tags=_unique(values.get("tags", ())),
    )


# --------------------------------------------------------------------------- slugs and files


def slugify(stem: str) -> str:
    """The page slug of a file stem: ``"COVID_19"`` → ``"covid-19"``, ``"c++"`` → ``"c-plus-plus"``.

    Accents are dropped (NFKD), ``+`` becomes ``-plus-`` and ``#`` ``-sharp-`` (so ``c++``
    and ``c#`` stay distinct), then the text is lower-cased and every run of characters
    outside ``[a-z0-9]`` becomes one ``-``; leading and trailing ``-`` are removed. May
    return ``""`` (e.g. for a name written only in non-Latin script).
    """
    text = stem.replace("+", "-plus-").replace("#", "-sharp-")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _slug_problems(slug: str, path: str) -> list[Problem]:
    if not slug:
        return [Problem(path, None, None, "the file name gives an empty page slug — "
                        "name the file with letters a–z or digits, e.g. alignment-tax.yaml")]
    if slug in RESERVED_SLUGS:
        return [Problem(path, None, None, f"slug {slug!r} is reserved for a page the site generates — "
                        f"rename the file (reserved: {', '.join(sorted(RESERVED_SLUGS))})")]
    return []


def _read(path: Path, display: str) -> tuple[bytes | None, list[Problem]]:
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                size = os.fstat(handle.fileno()).st_size
                return None, [Problem(display, None, None, f"file is {size} bytes — the limit is {MAX_BYTES}")]
    except OSError as exc:
        return None, [Problem(display, None, None, f"cannot read the file: {exc.strerror or exc}")]
    return data, []


def _load(path: Path, display: str) -> tuple[Question | None, list[Problem]]:
    slug = slugify(path.stem)
    problems = _slug_problems(slug, display)
    data, found = _read(path, display)
    if data is None:
        return None, problems + found
    question, found = _parse(data, display, slug)
    problems += found
    # Reading order: whole-file problems first, then by position in the file.
    problems.sort(key=lambda p: (p.line is not None, p.line or 0, p.column or 0))
    return (None if problems else question), problems


def load_question(path: Path, root: Path | None = None) -> Question:
    """Load and validate one question file.

    ``path`` is a ``.yaml``/``.yml`` file; its stem gives :attr:`Question.slug` via
    :func:`slugify`. Paths in :attr:`Question.path` and in problems are relative to
    ``root`` when given and ``path`` is inside it, else relative to the working directory
    when inside it, else as given.

    Raises :class:`generator.errors.InputError` listing *every* problem found in the file
    (unreadable, over :data:`MAX_BYTES`, not UTF-8, YAML errors, schema errors, a bad or
    reserved slug). Defaults: ``search.queries`` → ``(title,)``, ``search.providers`` →
    :data:`generator.providers.NETWORK_PROVIDERS`, ``since`` → ``None``,
    ``max_records`` → 100. Repeated list items are kept once, in first-seen order (facets compared
    case-insensitively).
    """
    question, problems = _load(Path(path), _display(Path(path), root))
    if problems or question is None:
        raise InputError(problems)
    return question


def _question_files(folder: Path) -> list[Path]:
    return sorted(
        (p for p in folder.iterdir() if p.suffix.lower() in (".yaml", ".yml") and not p.name.startswith(".")),
        key=lambda p: p.name,
    )


def _nested_question_files(folder: Path) -> list[Path]:
    """Question-like files in subfolders of ``folder``, except under hidden ones (``.drafts/``)."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if Path(dirpath) != folder:
            found += [Path(dirpath) / name for name in sorted(filenames)
                      if Path(name).suffix.lower() in (".yaml", ".yml") and not name.startswith(".")]
    return found


def load_questions(folder: Path, root: Path | None = None) -> list[Question]:
    """Load every ``*.yaml`` / ``*.yml`` file directly in ``folder`` (hidden files skipped).

    A question file in a subfolder is a problem (it would silently not be built); files
    under a hidden subfolder (``.drafts/``) are left alone.

    Files are read in sorted name order; the result is sorted by slug. Raises one
    :class:`generator.errors.InputError` with every problem of every file, including two
    files producing one slug (the later file is named with the earlier one — case MD-06)
    and a missing folder. An existing folder with no question files gives ``[]``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError([Problem(_display(folder, root), None, None, "question folder not found")])
    problems: list[Problem] = []
    questions: list[Question] = []
    owner: dict[str, str] = {}
    for path in _question_files(folder):
        display = _display(path, root)
        question, found = _load(path, display)
        problems += found
        slug = slugify(path.stem)  # slugs are lower-case, so this compares case-insensitively
        if slug and slug in owner:
            problems.append(Problem(display, None, None,
                                    f"slug {slug!r} is also produced by {owner[slug]} — rename one file"))
        elif slug:
            owner[slug] = display
        if question is not None:
            questions.append(question)
    for path in _nested_question_files(folder):
        problems.append(Problem(_display(path, root), None, None,
                                f"question files must be directly in {_display(folder, root)}/, not in a "
                                f"subfolder — move it up to build it, or into a folder whose name starts "
                                f"with '.' (e.g. .drafts/) to keep it unbuilt"))
    if problems:
        raise InputError(problems)
    return sorted(questions, key=lambda q: q.slug)


# --------------------------------------------------------------------------- scaffold


_STOPWORDS = frozenset(
    "a about above across after against all also am among an and any are as at be been before being "
    "between both but by can could did do does doing during each either for from had has have having "
    "how i if in into is it its may might more most much must no nor not of off on once only or other "
    "our out over own same should so some such than that the their them then there these they this "
    "those through to too under until up upon very via was we were what when where whether which while "
    "who whom whose why will with within without would you your".split()
)
_WORD = re.compile(r"[^\W_](?:[\w+#.\-]*[\w+#])?")
_TITLE_MAX = 80


def _clean(question_text: str) -> str:
    # argv with undecodable bytes arrives with lone surrogates; they cannot be written as
    # UTF-8, so they become U+FFFD. Control characters and a BOM carry no meaning in a
    # question (and a BOM mid-file is rejected by the loader), so they become spaces.
    text = question_text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    text = "".join(" " if ch == "\ufeff" or unicodedata.category(ch) == "Cc" else ch for ch in text)
    return " ".join(text.split())


def _title(text: str) -> str:
    if len(text) <= _TITLE_MAX:
        return text
    cut = text[: _TITLE_MAX - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"


def _content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text) if w.lower() not in _STOPWORDS]


def _quote(text: str) -> str:
    """``text`` as one double-quoted YAML scalar (PyYAML escapes what needs escaping)."""
    dumped = yaml.safe_dump(text, default_style='"', allow_unicode=True, width=1 << 30)
    return dumped.removesuffix("\n...\n").rstrip("\n")


def _require_text(question_text: str) -> str:
    text = _clean(question_text)
    if not _WORD_OF_LETTERS.search(text):
        raise InputError([Problem("(question)", None, None, "the question has no words — write it in words, "
                                  "e.g. litsynth new \"Does RLHF reduce benchmark accuracy?\"")])
    return text


def scaffold(question_text: str, *, year: int | None = None) -> str:
    """Text of a new question file for ``litsynth new "question"``.

    ``title`` is the question cut at a word boundary to at most 80 characters; the search
    query is the question's first eight content words (stop words removed); ``since`` is
    ``year`` (default: this year) minus five. The result loads cleanly with
    :func:`load_question`. Raises :class:`generator.errors.InputError` for a question
    with no visible characters.
    """
    text = _require_text(question_text)
    title = _title(text)
    query = " ".join(_content_words(text)[:8]) or title
    since = (year if year is not None else datetime.date.today().year) - 5
    return "\n".join([
        f"title: {_quote(title)}",
        f"question: {_quote(text)}",
        "# What a complete answer must cover, e.g. [RLHF, DPO, benchmark performance].",
        "facets: []",
        "search:",
        f"  queries: [{_quote(query)}]",
        "  # providers: [arxiv, openalex, crossref, semantic_scholar, europepmc]   # default: all of these",
        f"  since: {since}",
        "  max_records: 100",
        "# include: [\"arXiv:2309.06256\"]        # works to retrieve and screen in always",
        "# claims:                               # curated claims to verify",
        "#   - text: A complete sentence stating one claim.",
        "#     cites: [\"doi:10.1234/x\"]",
        "# tags: []",
        "",
    ])


def scaffold_slug(question_text: str) -> str:
    """A file slug for a new question: its first six content words, at most 60 characters.

    Falls back to ``question-<8 hex digits of SHA-1 of the text>`` when no Latin letters or
    digits remain, and appends ``-question`` to a reserved slug. Raises
    :class:`generator.errors.InputError` for an empty question.
    """
    text = _require_text(question_text)
    slug = slugify(" ".join(_content_words(text)[:6])) or slugify(text)
    if len(slug) > 60:
        slug = slug[:61].rsplit("-", 1)[0] if "-" in slug[:61] else slug[:60]
    slug = slug.strip("-")
    if not slug:
        return "question-" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]
    return f"{slug}-question" if slug in RESERVED_SLUGS else slug
