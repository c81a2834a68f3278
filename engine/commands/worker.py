"""`strideline worker` and `strideline rebuild`.

    strideline worker [-p N] [-t M] [-Q QUEUE...] [--redis-url URL] [--metrics-port PORT]
        dramatiq worker processes on Redis (dramatiq's CLI on ``workers.actors``), replacing this
        process so signals (SIGTERM: finish current messages, then stop) reach dramatiq directly.
    strideline rebuild [--store URL] [--athlete ID] [--tick]
        delete projection rows and fold them again from the log, with a progress bar.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

import typer

from engine.commands.options import chosen, hidden_alias, store_option

WORKER_MODULE = "workers.actors"
DRAMATIQ_MAIN = "engine.commands.dramatiq_main"
"""dramatiq's CLI with Strideline's logging (one JSON format for every line)."""


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("rebuild")(rebuild)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def dramatiq_argv(processes: int, threads: int, queues: list[str] | None = None) -> list[str]:
    argv = [sys.executable, "-m", DRAMATIQ_MAIN, WORKER_MODULE, "--processes", str(processes),
            "--threads", str(threads)]
    if queues:
        argv += ["--queues", *queues]
    return argv


def worker(
    processes: int = typer.Option(2, "--processes", "-p", min=1, help="Worker processes."),
    threads: int = typer.Option(4, "--threads", "-t", min=1, help="Worker threads per process."),
    queues: list[str] | None = typer.Option(None, "--queue", "-Q",
                                            help="Consume only these queues (projector, notify, sweeper)."),
    redis_url: str | None = typer.Option(None, "--redis-url", envvar="STRIDELINE_REDIS_URL",
                                         help="Broker Redis (default: $STRIDELINE_REDIS_URL)."),
    metrics_port: int = typer.Option(0, "--metrics-port", envvar="STRIDELINE_METRICS_PORT",
                                     help="Serve Prometheus metrics of all worker processes here."),
    store: str | None = store_option(),
) -> None:
    """Run dramatiq worker processes on Redis: projector, notifiers and the sweeper."""
    import structlog

    from engine.logs import configure_logging

    configure_logging(os.environ.get("STRIDELINE_LOG_LEVEL", "INFO"))
    if not redis_url:
        _fail("workers need Redis: pass --redis-url or set STRIDELINE_REDIS_URL "
              "(without Redis, the pipeline runs in process: see docs/workers.md)")
    env = dict(os.environ, STRIDELINE_REDIS_URL=redis_url)
    if store:
        env["STRIDELINE_STORE_URL"] = store
    if metrics_port:
        env["STRIDELINE_METRICS_PORT"] = str(metrics_port)
        env.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="strideline-metrics-"))
        os.makedirs(env["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    argv = dramatiq_argv(processes, threads, queues)
    structlog.get_logger("strideline.workers").info(
        "workers_starting", processes=processes, threads=threads, queues=queues or "all",
        metrics=f"{env.get('STRIDELINE_METRICS_HOST', '127.0.0.1')}:{metrics_port}" if metrics_port else None)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, env)


def rebuild(
    athlete: str | None = typer.Option(None, "--athlete", help="Rebuild one athlete (default: all)."),
    store: str | None = store_option(),
    tick: bool = typer.Option(False, "--tick/--no-tick",
                              help="Also evaluate day boundaries up to now (otherwise the sweeper's next tick does)."),
    store_url: str | None = hidden_alias("--store-url"),
) -> None:
    """Rebuild projections from the log: delete each athlete's projection row, fold it again."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from engine import pipeline
    from engine.runtime import build_runtime
    from events import recommendation_stream

    rt = build_runtime(store_url=chosen(store, store_url))
    store = rt.store
    if athlete is not None:
        if store.stream_version(athlete) == 0:
            _fail(f"no athlete {athlete!r} in the store")
        athletes = [athlete]
    else:
        athletes = pipeline.athletes(store)
    began = time.perf_counter()
    events = new_recommendations = quarantined = 0
    columns = (TextColumn("[progress.description]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[events]} events"), TimeRemainingColumn())
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task("rebuilding", total=len(athletes), events=0)
        for athlete_id in athletes:
            before = store.stream_version(recommendation_stream(athlete_id))
            store.delete_projections(pipeline.PROJECTION, athlete_id)
            if tick:
                outcome = pipeline.tick_athlete(store, athlete_id, rt.policy, rt.horizon())
            else:
                outcome = pipeline.project_athlete(store, athlete_id, rt.policy)
            events += outcome.events_folded
            new_recommendations += store.stream_version(recommendation_stream(athlete_id)) - before
            quarantined += len(pipeline.load_state(store, athlete_id)[0].quarantined)
            progress.update(task, advance=1, events=events)
    seconds = time.perf_counter() - began
    typer.echo(f"rebuilt {len(athletes)} athlete(s) from {events} events in {seconds:.1f}s; "
               f"{new_recommendations} new recommendation(s)"
               + (" (the notifiers deliver them once the sweeper sees them)" if new_recommendations else "")
               + (f"; {quarantined} event(s) quarantined (not foldable): `strideline quarantine list`"
                  if quarantined else ""))
    store.close()
