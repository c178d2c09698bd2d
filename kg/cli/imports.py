"""`kg import …`: bring other sources into the workspace (never into the installed package)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kg.cli.common import WorkspaceOption, err_console, user_errors, workspace_root
from kg.paths import resource_dir

if TYPE_CHECKING:
    from kg.sources.hf import HubRecord

imports = typer.Typer(
    help="Import other sources into the workspace (./kg-workspace or $KG_WORKSPACE).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    app.add_typer(imports, name="import")


@imports.command("tracker")
def tracker(
    folder: Annotated[Path, typer.Argument(help="Folder of tracker files (one .md per model).")],
    sources: Annotated[
        Path | None,
        typer.Option(
            help="Curated sources folder to match models against (default: the project's)."
        ),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Read tracker files, match models to the paper's by name, write imports/tracker.csv
    into the workspace."""
    from kg.sources.loader import load_sources
    from kg.sources.tracker import IMPORT_FILE, normalise, read_tracker, to_csv
    from kg.sources.workspace import Provenance, Workspace
    from kg.vocab.ontology import load_ontology, vocabulary

    with user_errors():
        ws = Workspace(workspace_root(workspace))
        root = sources or resource_dir("sources")
        src = load_sources(root, vocabulary(load_ontology()))
        names: dict[str, str] = {}
        for m in src.models:
            names[normalise(m.name)] = m.id
            names[normalise(m.table3_label)] = m.id
        result = read_tracker(folder, names)
        provenance = Provenance(
            source="tracker",
            title="The paper's online tracker",
            retrieved=dt.date.today().isoformat(),
            folder=str(folder),
            records=len(result.matched),
        )
        target = ws.write(Path(IMPORT_FILE).name, to_csv(result).encode("utf-8"), provenance)
    typer.echo(
        f"Imported {len(result.matched)} model file(s), {len(result.cells)} cells, into {target}."
    )
    for file, title in sorted(result.unmatched.items()):
        typer.echo(f"  not matched to a model of the paper: {file} (title '{title}')")
    typer.echo("Run kg build to load it; kg query source-disagreements compares the sources.")


def _git_commit(folder: Path) -> str:
    """The commit of `folder` when it is (the top of, or models/ in) a git clone, else ''."""
    import subprocess

    try:
        top = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = top.stdout.split()
    if top.returncode != 0 or len(lines) != 2:
        return ""
    if Path(lines[0]).resolve() not in (folder.resolve(), folder.resolve().parent):
        return ""  # the folder is inside some other repository: its commit says nothing
    return lines[1]


SNAPSHOT_URL = {
    "eosai": "https://codeload.github.com/Language-Technology-Assessment/main-database"
    "/tar.gz/refs/heads/main",
    "mot": "https://codeload.github.com/lfai/model_openness_tool/tar.gz/refs/heads/main",
}
SNAPSHOT_URL_ENV = {"eosai": "KG_EOSAI_URL", "mot": "KG_MOT_URL"}


def _import(
    source: str, folder: Path | None, url: str, sources: Path | None, workspace: Path | None
) -> None:
    from kg.mapping.sources import resolve_all
    from kg.sources import eosai, mot
    from kg.sources.download import download_snapshot, snapshot_info
    from kg.sources.loader import load_sources
    from kg.sources.workspace import Provenance, Workspace, records_to_jsonl
    from kg.vocab.ontology import load_ontology, vocabulary

    module = eosai if source == "eosai" else mot
    with user_errors():
        ws = Workspace(workspace_root(workspace))
        root = sources or resource_dir("sources")
        src = load_sources(root, vocabulary(load_ontology()))
        retrieved, where = dt.date.today().isoformat(), str(folder or url)
        if folder is None:
            # into the workspace's downloads/ only once the whole archive is in and extracted
            folder = download_snapshot(url, ws.root / "downloads" / source, progress=True)
            info = snapshot_info(folder)
            commit = (info.commit or "") if info else ""
            retrieved = info.retrieved[:10] if info else retrieved
        else:
            commit = _git_commit(folder)
        reading = eosai.read_eosai(folder) if source == "eosai" else mot.read_mot(folder)
        provenance = Provenance(
            source=source,
            title=module.TITLE,
            upstream=module.UPSTREAM,
            license=module.LICENSE,
            attribution=module.ATTRIBUTION,
            commit=commit,
            retrieved="" if commit else retrieved,
            folder=where,
            records=len(reading.records),
        )
        data = records_to_jsonl(reading.records).encode("utf-8")
        target = ws.write(module.IMPORT_FILE, data, provenance)
        paper = {m.id: [m.name, m.table3_label] for m in src.models}
        resolution = resolve_all(
            root,
            paper,
            eosai.load_imported(ws.path(eosai.IMPORT_FILE)),
            mot.load_imported(ws.path(mot.IMPORT_FILE)),
        )
    mine = [i for i in resolution.identities if i.source == source]
    matched = [i for i in mine if i.matched]
    judgments = sum(
        len(r.judgments) if isinstance(r, eosai.Record) else len(r.components)
        for r in reading.records
    )
    typer.echo(
        f"Imported {len(reading.records)} {module.TITLE} record(s), {judgments} judgments, "
        f"into {target} ({'commit ' + commit if commit else 'retrieved ' + provenance.retrieved})."
    )
    for line in reading.reported:
        typer.echo(f"  reported: {line}")
    typer.echo(
        f"{len(matched)} record(s) matched to a model another source has; "
        f"{len(mine) - len(matched)} not matched (models of their own, listed, never guessed):"
    )
    for i in mine:
        if not i.matched:
            typer.echo(f"  not matched: {i.record} ('{i.name}')")
    typer.echo("Run kg build to load it; kg query who-says -p model=NAME shows every source.")


_SNAPSHOT_HELP = "Snapshot archive (tar.gz or zip) to download when DIR is not given."
EosaiFolder = Annotated[
    Path | None,
    typer.Argument(
        help="A clone of the EOSAI main-database, one .yaml per model (default: download the "
        "snapshot).",
        show_default=False,
    ),
]
MotFolder = Annotated[
    Path | None,
    typer.Argument(
        help="A clone of lfai/model_openness_tool or its models/ folder (default: download the "
        "snapshot).",
        show_default=False,
    ),
]
EosaiUrl = Annotated[str, typer.Option(envvar=SNAPSHOT_URL_ENV["eosai"], help=_SNAPSHOT_HELP)]
MotUrl = Annotated[str, typer.Option(envvar=SNAPSHOT_URL_ENV["mot"], help=_SNAPSHOT_HELP)]
SourcesOption = Annotated[
    Path | None, typer.Option(help="Curated sources (default: the project's).")
]


@imports.command("eosai")
def eosai_command(
    folder: EosaiFolder = None,
    url: EosaiUrl = SNAPSHOT_URL["eosai"],
    sources: SourcesOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Read the European Open Source AI Index (all three schema generations) into the
    workspace (imports/eosai.jsonl), with its provenance."""
    _import("eosai", folder, url, sources, workspace)


@imports.command("mot")
def mot_command(
    folder: MotFolder = None,
    url: MotUrl = SNAPSHOT_URL["mot"],
    sources: SourcesOption = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Read the Model Openness Tool's model records into the workspace (imports/mot.jsonl),
    with its provenance."""
    _import("mot", folder, url, sources, workspace)


@imports.command("hf")
def hf(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="JSON Lines file of /api/models records. Without it, the listing is fetched "
            "from $HF_ENDPOINT (default https://huggingface.co), cached and resumable."
        ),
    ] = None,
    workspace: WorkspaceOption = None,
    cache: Annotated[
        Path,
        typer.Option(help="Where a live fetch keeps its pages and checkpoint."),
    ] = Path(".kg-cache/hf"),
    limit: Annotated[
        int | None, typer.Option(help="Fetch at most about this many records (whole pages).")
    ] = None,
    page_size: Annotated[int, typer.Option(help="Records per page of a live fetch.")] = 1000,
    refresh: Annotated[
        bool, typer.Option(help="Start a live fetch over instead of resuming it.")
    ] = False,
    retries: Annotated[int, typer.Option(help="Retries of a failed page request.")] = 5,
) -> None:
    """Import Hugging Face Hub model metadata into the workspace's imports/hf.jsonl (read by the
    next kg build); malformed records and unresolved licenses are listed."""
    from kg.sources.hf import DEFAULT_ENDPOINT, ReadReport, endpoint, read_records, write_import
    from kg.sources.workspace import Provenance, Workspace

    with user_errors():
        ws = Workspace(workspace_root(workspace))
        today = dt.datetime.now(dt.UTC).date().isoformat()
        if file is None:
            base = endpoint()
            path = _fetch(cache, limit, page_size, refresh, retries)
            upstream, folder = f"{base}/api/models", ""
        else:
            base, path, upstream, folder = DEFAULT_ENDPOINT, file, "", str(file)
        report = ReadReport()
        keys: Counter[str] = Counter()

        def counted(records: Iterator[HubRecord]) -> Iterator[HubRecord]:
            for r in records:
                keys.update(r.licenses_as_written())
                yield r

        target, info = write_import(
            counted(read_records(path, report)),
            ws,
            lambda n: Provenance(
                source="hf",
                title="Hugging Face Hub model listing",
                upstream=upstream,
                retrieved=today,
                folder=folder,
                records=n,
                extra={"endpoint": base},
            ),
        )
        unresolved = unresolved_keys(keys)
    typer.echo(
        f"Imported {info.records} repositories of {report.read} records into {target}"
        + (f"; {report.problem_count} malformed record(s) skipped:" if report.problem_count else "")
    )
    for p in report.problems[:50]:
        typer.echo(f"  {path.name}, {p}")
    if report.problem_count > 50:
        typer.echo(f"  … and {report.problem_count - 50} more")
    if unresolved:
        total = sum(unresolved.values())
        typer.echo(
            f"{len(unresolved)} license string(s), declared by {total} repositories, resolve to "
            "no license record (add them to curation/license-aliases.csv):"
        )
        for key, n in unresolved.most_common(30):
            typer.echo(f"  {key!r}: {n}")
    typer.echo("Run kg build to load it; kg query license-conflicts lists conflicts.")


def _fetch(cache: Path, limit: int | None, page_size: int, refresh: bool, retries: int) -> Path:
    import sys

    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from kg.sources.hf import fetch_pages

    if not sys.stderr.isatty():
        return fetch_pages(
            cache, page_size=page_size, limit=limit, refresh=refresh, retries=retries
        )
    with Progress(
        SpinnerColumn(),
        TextColumn("fetching /api/models: {task.completed} records"),
        TimeElapsedColumn(),
        console=err_console(),
        transient=True,
    ) as bar:
        task = bar.add_task("fetch", total=limit)
        return fetch_pages(
            cache,
            page_size=page_size,
            limit=limit,
            refresh=refresh,
            retries=retries,
            on_page=lambda n: bar.update(task, completed=n),
        )


def unresolved_keys(keys: Counter[str]) -> Counter[str]:
    """The license strings the knowledge base resolves to neither a license record nor a status,
    by the build's own rule (queries/derive/62-license-strings.rq, which resolves every
    source's strings) run on the curated sources and one stand-in per string."""
    import pyoxigraph as ox

    from kg.checks.derive import rules
    from kg.release.build import assemble
    from kg.store import OxigraphStore
    from kg.vocab.namespaces import gao

    if not keys:
        return Counter()
    store = OxigraphStore.in_memory()
    store.add_quads(assemble())  # the curated sources: the license knowledge base
    stand_in = {ox.NamedNode(f"urn:kg:license-key:{i}"): k for i, k in enumerate(sorted(keys))}
    store.add_quads(
        ox.Quad(s, gao("licenseAsWritten"), ox.Literal(k), ox.DefaultGraph())
        for s, k in stand_in.items()
    )
    rule = next(r for r in rules() if r.slug == "license-strings")
    resolved = {
        stand_in[t.subject]
        for t in store.construct(rule.query)
        if isinstance(t.subject, ox.NamedNode) and t.subject in stand_in
    }
    return Counter({k: n for k, n in keys.items() if k not in resolved})


FMTI_URL_ENV = "KG_FMTI_URL"
FMTI_URL = "https://codeload.github.com/stanford-crfm/fmti/tar.gz/refs/heads/main"


@imports.command("fmti")
def fmti(
    folder: Annotated[
        Path | None,
        typer.Argument(
            help="A clone or snapshot of stanford-crfm/fmti (default: download the snapshot).",
            show_default=False,
        ),
    ] = None,
    url: Annotated[
        str,
        typer.Option(
            envvar=FMTI_URL_ENV, help="Snapshot archive to download when DIR is not given."
        ),
    ] = FMTI_URL,
    sources: Annotated[
        Path | None,
        typer.Option(
            help="Curated sources folder to match developers and models against "
            "(default: the project's)."
        ),
    ] = None,
    workspace: WorkspaceOption = None,
) -> None:
    """Import the Foundation Model Transparency Index (2023, 2024, 2025 editions) into the
    workspace: imports/fmti.csv and imports/fmti-indicators.csv."""
    from kg.fsutil import write_atomic
    from kg.sources import fmti as f
    from kg.sources.download import download_snapshot, snapshot_info
    from kg.sources.loader import load_sources
    from kg.sources.workspace import Provenance, Workspace
    from kg.vocab.ontology import load_ontology, vocabulary

    with user_errors():
        ws = Workspace(workspace_root(workspace))
        root = sources or resource_dir("sources")
        src = load_sources(root, vocabulary(load_ontology()))
        commit, retrieved, where = "", dt.date.today().isoformat(), str(folder or url)
        if folder is None:
            folder = download_snapshot(url, ws.root / "downloads" / "fmti", progress=True)
            info = snapshot_info(folder)
            if info is not None:
                commit, retrieved = info.commit or "", info.retrieved[:10]
        data = f.read_fmti(folder)
        organisations = {f.normalise(o.name): o.id for o in src.organisations}
        organisations |= {f.normalise(o.id): o.id for o in src.organisations}
        models: dict[str, str] = {}
        for m in src.models:
            models[f.normalise(m.name)] = m.id
            models[f.normalise(m.table3_label)] = m.id
        links = f.link(data, organisations, models, f.load_flagships(root))
        scores, indicators = f.to_csv(data, links)
        provenance = Provenance(
            source="fmti",
            title=f.TITLE,
            upstream=f.UPSTREAM,
            license=f.LICENSE,
            attribution=f.ATTRIBUTION,
            commit=commit,
            retrieved=retrieved,
            folder=where,
            records=len(data.scores),
        )
        write_atomic(ws.path(Path(f.INDICATOR_FILE).name), indicators.encode("utf-8"))
        target = ws.write(Path(f.IMPORT_FILE).name, scores.encode("utf-8"), provenance)
    editions = Counter(e for e, _ in data.developers())
    typer.echo(
        f"Imported {len(data.scores)} scores of {len(data.developers())} developer assessments "
        f"({', '.join(f'{e}: {n}' for e, n in sorted(editions.items()))}) on "
        f"{len(data.indicators)} indicators, {sum(1 for s in data.scores if s.disclosure)} with a "
        f"disclosure, into {target}."
    )
    typer.echo(
        f"Matched {len(links.organisations)} developer(s) to organisations and "
        f"{sum(1 for _, mid in links.models.values() if mid)} flagship model(s) to models."
    )
    for line in links.unmatched:
        typer.echo(f"  not matched: {line}")
    for note in data.notes:
        typer.echo(f"  note: {note}")
    typer.echo("Run kg build to load it; kg query transparency lists the scores.")
