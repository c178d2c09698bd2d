"""`kg reason`: exit 0 when consistent and the reasoner agrees with the SPARQL rules, 1 when not,
2 on an error (for example no Java)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from kg.cli.common import OutOption, user_errors


def register(app: typer.Typer) -> None:
    app.command("reason")(reason_cmd)


def reason_cmd(
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            metavar="NAME",
            help="Reason on the ontology and this model's asserted facts only (its name, slug "
            "or IRI; repeatable): seconds, where the whole graph takes HermiT minutes to hours "
            "beyond a few hundred models.",
            show_default=False,
        ),
    ] = None,
    out: OutOption = None,
) -> None:
    """Check consistency with HermiT (owlready2, needs Java) and cross-check the model classes."""
    from kg.checks.reason import java_version, reason
    from kg.cli.explain import find_model
    from kg.fsutil import write_atomic
    from kg.release.release import Release

    with user_errors():
        release = Release.current(out)
        runtime = java_version()
        store = release.open_store()
        models = [find_model(store, release.base, name)[0].value for name in model or []]
        result = reason(store, release.base.base, models)
        report = {
            "reasoner": result.reasoner,
            "java": runtime,
            "consistent": result.consistent,
            "seconds": round(result.seconds, 1),
            "checked": {
                "models": result.scope.models or "all",
                "triples": result.scope.triples,
                "ontology_triples": result.scope.ontology_triples,
            },
            "inferred": result.inferred,
            "derived": result.derived,
            "disagreements": result.disagreements,
        }
        name = "reasoning.json" if not models else "reasoning-models.json"
        target = release.reports / name
        write_atomic(target, (json.dumps(report, indent=2, sort_keys=True) + "\n").encode())
    typer.echo(f"Checked {result.scope.describe()}.")
    if not result.consistent:
        typer.echo("INCONSISTENT: the ontology and the data contradict each other (HermiT).")
        raise typer.Exit(1)
    typer.echo(f"Consistent (HermiT, {runtime}, {result.seconds:.1f} s).")
    for name, members in result.inferred.items():
        short = ", ".join(m.rsplit("/", 1)[-1] for m in members)
        typer.echo(f"  gao:{name}: {len(members)} models: {short}")
    if result.disagreements:
        typer.echo("The reasoner and the SPARQL rules DISAGREE:")
        for name, diff in result.disagreements.items():
            typer.echo(f"  gao:{name}: {json.dumps(diff)}")
        raise typer.Exit(1)
    typer.echo("The reasoner and the SPARQL derivation rules classify the same models.")
    typer.echo(f"Report written to {target}")
