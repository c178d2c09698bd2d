"""The query library: `.rq` files with a YAML header, parameters bound as RDF terms (never pasted).

A query file starts with a comment block that is YAML once the leading `# ` is removed:

    # title: Table 3, cell by cell
    # description: One row per model and pipeline component.
    # parameters:
    #   model: {type: string, required: false, description: a model's name, example: GPT-2}
    # columns:
    #   model: the model's name as the paper writes it

Parameter values are turned into RDF terms by pyoxigraph and bound by `VALUES` blocks, so user
input never becomes SPARQL syntax: the required parameters at the start of the WHERE group (the
store then evaluates the pattern with them bound), the optional ones in a trailing block
(`QueryFile.with_values`). A query can say where its parameters are bound instead: a comment line
`# bind ?model ?component` in a group (a sub-select's, say) takes those parameters' `VALUES`
block in its place, and leaves nothing there when they are not given, so that the group is
evaluated with them bound. SPARQL updates (`.ru` files,
same header) allow no trailing `VALUES`: they bind tables of terms by filling empty inline blocks
such as `VALUES (?staging ?target) {}` (`QueryFile.with_tables`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyoxigraph import Literal, NamedNode

from kg.errors import QueryError
from kg.paths import resource_dir
from kg.vocab.namespaces import XSD

PARAM_TYPES = ("iri", "string", "integer", "boolean")
_VAR = re.compile(r"[?$]([A-Za-z_][A-Za-z0-9_]*)")
# a comment that marks where parameters are bound: `# bind ?model ?component`
_BIND_MARK = re.compile(r"#[ \t]*bind((?:[ \t]+[?$][A-Za-z_][A-Za-z0-9_]*)+)[ \t]*$")
# an empty inline data block: `VALUES ?g {}` or `VALUES (?a ?b) {}`
_EMPTY_VALUES = re.compile(
    r"\bVALUES\s*(\((?:\s*[?$][A-Za-z_][A-Za-z0-9_]*)+\s*\)|[?$][A-Za-z_][A-Za-z0-9_]*)\s*\{\s*\}",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    required: bool
    description: str
    default: str | None = None
    lang: str | None = None  # strings bound as language-tagged literals (for example en)
    example: str | None = None  # a value worth trying (the compliance suite runs it)


@dataclass(frozen=True)
class QueryFile:
    """A parsed `.rq` file: its name, header and SPARQL text."""

    name: str
    path: Path
    title: str
    description: str
    text: str
    parameters: tuple[Parameter, ...] = ()
    columns: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def bindings(self, values: dict[str, str], prefixes: dict[str, str]) -> dict[str, Any]:
        """Check `values` against the declared parameters and turn them into RDF terms."""
        declared = {p.name: p for p in self.parameters}
        unknown = sorted(set(values) - set(declared))
        if unknown:
            allowed = ", ".join(declared) or "none"
            raise QueryError(
                f"query '{self.name}': unknown parameter(s) {', '.join(unknown)} "
                f"(this query takes: {allowed})"
            )
        terms: dict[str, Any] = {}
        for p in self.parameters:
            raw = values.get(p.name, p.default)
            if raw is None:
                if p.required:
                    raise QueryError(
                        f"query '{self.name}': parameter '{p.name}' is required "
                        f"({p.description}); pass --param {p.name}=VALUE"
                    )
                continue
            terms[p.name] = to_term(raw, p, prefixes, self.name)
        return terms

    def with_values(self, terms: dict[str, Any]) -> str:
        """The query text with the bound parameters as `VALUES` blocks: the required ones at the
        start of the query's WHERE group (`WHERE { VALUES (?a) { (…) } …`), so that the store
        evaluates the pattern with them already bound (a lineage at 100,000 repositories: 0.26 s,
        against 15 s with a trailing block, which the store joins only after evaluating the
        whole pattern); the optional ones in a trailing block. A required parameter is what the
        question is about and its pattern binds it, so both places give the same rows (the
        compliance suite holds every library question to it); an optional one is often bound
        by an OPTIONAL or a BIND (a filter on a column), where only a trailing block joins it
        after. A query with no WHERE group to bind in (`CONSTRUCT WHERE { … }`) gets one
        trailing block. Parameters named by a `# bind ?a ?b` comment are bound there instead
        (`_at_marks`)."""
        text, terms = self._at_marks(terms)
        first, rest = self._split(terms)
        text = self._at_group_start(text, first) if first else text
        return _trailing(text, rest) if rest else text

    def with_values_in_group(self, terms: dict[str, Any]) -> str:
        """As `with_values`, but the optional parameters in a block at the end of the WHERE
        group rather than after it, for stores that take a trailing `VALUES` block for fixed
        values rather than a join (Virtuoso 7). The two differ only where a FILTER of that group
        reads a parameter the group does not bind."""
        text, terms = self._at_marks(terms)
        first, rest = self._split(terms)
        text = self._at_group_start(text, first) if first else text
        if not rest:
            return text
        if _where_group_start(text) is None:  # no WHERE group: the block trails
            return _trailing(text, rest)
        end = _last_closing_brace(text)
        if end is None:
            raise QueryError(f"{self.path}: no group pattern to bind the parameters in")
        return f"{text[:end]}  VALUES {_values_row(rest)}\n{text[end:]}"

    def with_trailing_values(self, terms: dict[str, Any]) -> str:
        """Every bound parameter in one trailing `VALUES` block (joined with the solutions after
        the pattern is evaluated): the reference the compliance suite holds `with_values` to."""
        return _trailing(self.text, terms) if terms else self.text

    def _split(self, terms: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(required parameters, the others); all of them trail when there is no group."""
        required = {p.name for p in self.parameters if p.required}
        first = {n: v for n, v in terms.items() if n in required}
        if first and _where_group_start(self.text) is None:
            return {}, terms
        return first, {n: v for n, v in terms.items() if n not in first}

    def _at_group_start(self, text: str, terms: dict[str, Any]) -> str:
        start = _where_group_start(text)
        assert start is not None  # _split checked
        head, tail = text[: start + 1], text[start + 1 :]
        return f"{head}\n  VALUES {_values_row(terms)}\n{tail}"

    def _at_marks(self, terms: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """(the text with each `# bind ?a ?b` comment replaced by a `VALUES` block of the given
        ones among its parameters, or removed when none is given; the parameters left to
        bind). A marked parameter is bound only where marked."""
        marked: set[str] = set()
        pieces: list[str] = []
        for m in _LEXEME.finditer(self.text):
            token = m.group(0)
            mark = _BIND_MARK.fullmatch(token) if token.startswith("#") else None
            if mark is None:
                pieces.append(token)
                continue
            names = _VAR.findall(mark.group(1))
            marked.update(names)
            given = {n: terms[n] for n in names if n in terms}
            pieces.append(f"VALUES {_values_row(given)}" if given else "")
        if not marked:
            return self.text, terms
        return "".join(pieces), {n: v for n, v in terms.items() if n not in marked}

    def with_tables(self, tables: dict[tuple[str, ...], Iterable[Sequence[Any]]]) -> str:
        """The text with every empty inline `VALUES (?a ?b) {}` block filled with the rows given
        for its variables (keyed by the variable names, in order). Every row term must be an IRI
        or a literal made by pyoxigraph; every block must get a table and every table a block."""
        rendered: dict[tuple[str, ...], list[str]] = {}
        for names, rows in tables.items():
            lines = []
            for row in rows:
                if len(row) != len(names) or not all(
                    isinstance(t, NamedNode | Literal) for t in row
                ):
                    raise QueryError(
                        f"{self.path}: a row for VALUES ({' '.join(names)}) must hold "
                        f"{len(names)} IRIs or literals, got {row!r}"
                    )
                lines.append(" ".join(str(t) for t in row))
            rendered[tuple(names)] = lines
        used: set[tuple[str, ...]] = set()

        def fill(match: re.Match[str]) -> str:
            names = tuple(_VAR.findall(match.group(1)))
            if names not in rendered:
                raise QueryError(f"{self.path}: no rows given for {match.group(0)}")
            used.add(names)
            inline = not match.group(1).startswith("(")
            rows = rendered[names] if inline else [f"({r})" for r in rendered[names]]
            return f"VALUES {match.group(1)} {{ {' '.join(rows)} }}"

        out = "\n".join(
            line if line.lstrip().startswith("#") else _EMPTY_VALUES.sub(fill, line)
            for line in self.text.splitlines()
        )
        unused = sorted(set(rendered) - used)
        if unused:
            missing = ", ".join("(" + " ".join(f"?{n}" for n in u) + ")" for u in unused)
            raise QueryError(f"{self.path}: no empty VALUES block for {missing}")
        return out + "\n"


# the lexemes of SPARQL text that may hold a brace that is not syntax: IRIs, strings, comments
_LEXEME = re.compile(
    r"""<[^<>"{}|^`\\\s]*>"""
    r'|"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|#[^\n]*"
    r"|[^<\"'#]+|."
)


_SYNTAX = re.compile(
    r"[{}]|(?<![\w?$:])(?:WHERE|SELECT|CONSTRUCT|ASK|DESCRIBE)(?![\w:-])", re.IGNORECASE
)


def _trailing(text: str, terms: dict[str, Any]) -> str:
    return f"{text.rstrip()}\nVALUES {_values_row(terms)}\n"


def _last_closing_brace(text: str) -> int | None:
    """The position of the last `}` of `text` that is syntax (not in an IRI, string or comment)."""
    last = None
    for m in _LEXEME.finditer(text):
        token = m.group(0)
        if token[0] not in "<\"'#":
            i = token.rfind("}")
            if i >= 0:
                last = m.start() + i
    return last


def _values_row(terms: dict[str, Any]) -> str:
    names = list(terms)
    row = " ".join(str(terms[n]) for n in names)
    head = " ".join(f"?{n}" for n in names)
    return f"({head}) {{ ({row}) }}"


def _where_group_start(text: str) -> int | None:
    """The position of the `{` that opens the query's WHERE group (the outermost one after the
    `WHERE` keyword, or after the query form when `WHERE` is left out), skipping braces and
    keywords in IRIs, strings and comments; None for `CONSTRUCT WHERE { … }`, whose group is
    also its template."""
    depth = 0
    form: str | None = None
    template = False  # a CONSTRUCT's template seen
    where = False
    for m in _LEXEME.finditer(text):
        token = m.group(0)
        if token[0] in "<\"'#" and len(token) > 1:
            continue  # an IRI, a string or a comment
        for s in _SYNTAX.finditer(token):
            word = s.group(0).upper()
            if word == "{":
                if depth == 0:
                    if where or (form is not None and form != "CONSTRUCT"):
                        return m.start() + s.start()
                    template = True
                depth += 1
            elif word == "}":
                depth -= 1
            elif depth == 0 and word == "WHERE":
                if form == "CONSTRUCT" and not template:
                    return None
                where = True
            elif depth == 0 and form is None:
                form = word
    return None


def to_term(raw: str, param: Parameter, prefixes: dict[str, str], query: str) -> Any:
    """Turn one parameter value into an RDF term of the declared type, or say why not."""
    where = f"query '{query}', parameter '{param.name}'"
    if param.type == "string":
        return Literal(raw, language=param.lang) if param.lang else Literal(raw)
    if param.type == "integer":
        if not re.fullmatch(r"[+-]?\d+", raw.strip()):
            raise QueryError(f"{where}: expected a whole number, got '{raw}'")
        return Literal(raw.strip(), datatype=NamedNode(XSD + "integer"))
    if param.type == "boolean":
        if raw.strip().lower() not in ("true", "false"):
            raise QueryError(f"{where}: expected true or false, got '{raw}'")
        return Literal(raw.strip().lower(), datatype=NamedNode(XSD + "boolean"))
    # iri: an absolute IRI, or a compact one (gao:C1, kg:model/gpt-2)
    value = raw.strip()
    prefix, sep, local = value.partition(":")
    if sep and prefix in prefixes and not local.startswith("//"):
        value = prefixes[prefix] + local
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$", value):
        raise QueryError(f"{where}: '{raw}' is not an IRI or a known compact IRI")
    try:
        return NamedNode(value)
    except ValueError as exc:
        raise QueryError(f"{where}: '{raw}' is not a valid IRI ({exc})") from None


def parse_query_file(
    path: Path, name: str | None = None, *, require_header: bool = True
) -> QueryFile:
    """Read a `.rq` (or `.ru`) file and its header; a missing or bad header is an error naming
    the file. With `require_header=False` (a user's own file) the header is optional: a file
    without one is a plain query titled by its file name, taking no parameters."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QueryError(f"{path}: query file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QueryError(f"{path}: cannot read query file ({exc})") from None
    header_lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            header_lines.append(line[2:] if line.startswith("# ") else line[1:])
        elif line.strip() == "" and not header_lines:
            continue
        else:
            break
    header: Any = None
    if header_lines:
        import yaml  # here: importing it is a fifth of `kg --help`

        try:
            # libyaml's safe loader where built (the same documents, 8x faster: a build reads
            # about fifty headers)
            loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            header = yaml.load("\n".join(header_lines), Loader=loader)
        except yaml.YAMLError as exc:
            if require_header:
                raise QueryError(f"{path}: the header comment is not valid YAML ({exc})") from None
    if not require_header and not (isinstance(header, dict) and "title" in header):
        return QueryFile(name or path.stem, path, path.name, "", text)
    if not isinstance(header, dict) or "title" not in header or "description" not in header:
        raise QueryError(
            f"{path}: the query needs a header comment with at least 'title' and 'description'"
        )
    params: list[Parameter] = []
    raw_params = header.get("parameters") or {}
    if not isinstance(raw_params, dict):
        raise QueryError(f"{path}: 'parameters' must map names to descriptions")
    used = set(_VAR.findall(_strip_comments(text)))
    for pname, spec in raw_params.items():
        spec = spec if isinstance(spec, dict) else {"description": str(spec)}
        ptype = spec.get("type", "string")
        if ptype not in PARAM_TYPES:
            raise QueryError(
                f"{path}: parameter '{pname}' has unknown type '{ptype}' "
                f"(use one of {', '.join(PARAM_TYPES)})"
            )
        if pname not in used:
            raise QueryError(f"{path}: parameter '{pname}' is declared but ?{pname} is not used")
        default = spec.get("default")
        params.append(
            Parameter(
                name=str(pname),
                type=ptype,
                required=bool(spec.get("required", False)),
                description=str(spec.get("description", "")).strip(),
                default=None if default is None else str(default),
                lang=spec.get("lang"),
                example=None if spec.get("example") is None else str(spec["example"]),
            )
        )
    unmarked = sorted(_marked(text) - {p.name for p in params})
    if unmarked:
        raise QueryError(
            f"{path}: a '# bind' comment names ?{', ?'.join(unmarked)}, not a declared parameter"
        )
    columns = header.get("columns") or {}
    if not isinstance(columns, dict):
        raise QueryError(f"{path}: 'columns' must map column names to descriptions")
    known = {"title", "description", "parameters", "columns"}
    return QueryFile(
        name=name or path.stem,
        path=path,
        title=str(header["title"]).strip(),
        description=" ".join(str(header["description"]).split()),
        text=text,
        parameters=tuple(params),
        columns={str(k): " ".join(str(v).split()) for k, v in columns.items()},
        extra={k: v for k, v in header.items() if k not in known},
    )


def _marked(text: str) -> set[str]:
    """The variables named by the text's `# bind ?a ?b` comments."""
    names: set[str] = set()
    for m in _LEXEME.finditer(text):
        mark = _BIND_MARK.fullmatch(m.group(0)) if m.group(0).startswith("#") else None
        if mark:
            names.update(_VAR.findall(mark.group(1)))
    return names


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def queries_dir() -> Path:
    return resource_dir("queries")


def library(folder: str = "") -> list[QueryFile]:
    """The named queries (`.rq`) and updates (`.ru`) of one folder of the library (the analyst
    questions by default)."""
    root = queries_dir() / folder if folder else queries_dir()
    prefix = f"{folder}/" if folder else ""
    files = sorted([*root.glob("*.rq"), *root.glob("*.ru")])
    return [parse_query_file(p, prefix + p.stem) for p in files]


def resolve(name_or_path: str) -> QueryFile:
    """A query by library name (`table3`, `qc/some-check`) or by path to any `.rq` file."""
    candidate = Path(name_or_path)
    if name_or_path.endswith(".rq"):
        if not candidate.is_file():
            raise QueryError(f"{name_or_path}: query file not found")
        return parse_query_file(candidate, require_header=False)
    named = queries_dir() / f"{name_or_path}.rq"
    if re.fullmatch(r"[a-z0-9-]+(/[a-z0-9-]+)?", name_or_path) and named.is_file():
        return parse_query_file(named, name_or_path)
    names = ", ".join(q.name for q in library())
    raise QueryError(
        f"no query named '{name_or_path}' (known: {names}; or give a path to a .rq file)"
    )
