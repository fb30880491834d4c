"""Flask CLI commands for the tool's operator and its scheduled jobs (toolforge/jobs.yaml):

    flask --app app verify        verify saved edits, then check survival (hourly)
    flask --app app monitor       judge the alarms, pause where one triggers (hourly)
    flask --app app purge         remove user names and comments after RETENTION_DAYS (daily)
    flask --app app pause WIKI TASK --reason "..."
    flask --app app resume WIKI TASK --reason "..."
    flask --app app new-generation   after restoring the database from a backup

Each prints one JSON line, so a job's log says what it did.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, TypeVar, cast

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from suggest.metrics import monitor, purge
from suggest.metrics.blocks import BlockCheck
from suggest.metrics.verify import Verifier
from suggest.services import SuggestionService

OPERATOR = "operator"


def _service() -> SuggestionService:
    found: SuggestionService = current_app.extensions["wiki_suggest"]
    return found


def _echo(data: dict[str, Any]) -> None:
    click.echo(json.dumps(data, sort_keys=True, default=str))


F = TypeVar("F", bound=Callable[..., Any])


def _needs_database(job: str) -> Callable[[F], F]:
    """A job whose database is away prints one JSON line saying so and exits with 1, instead of
    a traceback (which would also name the database's host in the job's log)."""
    def decorate(command: F) -> F:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            from suggest.store.events import StoreUnavailable

            try:
                return command(*args, **kwargs)
            except (StoreUnavailable, SQLAlchemyError) as error:
                _echo({"job": job, "error": "database_unavailable",
                       "message": f"the database is not available ({type(error).__name__}); "
                                  "nothing was changed, the next run tries again"})
                raise SystemExit(1) from None
        return cast(F, run)
    return decorate


@click.command("verify")
@with_appcontext
@_needs_database("verify")
@click.option("--limit", default=500, show_default=True, help="Edits per step in one run.")
def verify_command(limit: int) -> None:
    """Verify saved edits against the wiki, and check the survival of older ones."""
    svc = _service()
    config = svc.config
    verifier = Verifier(svc.store.engine, svc.registry, svc.user_agent,
                        timeout=float(config["WIKI_TIMEOUT"]),
                        delay_hours=float(config["VERIFY_DELAY"]),
                        max_attempts=int(config["VERIFY_MAX_ATTEMPTS"]))
    _echo({"job": "verify", **verifier.run(limit=limit).as_dict()})


@click.command("monitor")
@with_appcontext
@_needs_database("monitor")
def monitor_command() -> None:
    """Judge the alarms per task and wiki; pause a task where one triggers."""
    svc = _service()
    blocks = BlockCheck(svc.registry, svc.user_agent, timeout=float(svc.config["WIKI_TIMEOUT"]))
    try:
        triggered = monitor.run(svc.store, svc.config, blocks=blocks)
    except ValueError as error:
        raise click.ClickException(f"configuration: {error}") from None
    _echo({"job": "monitor", "triggered": [r.describe() + f" [{r.task} on {r.wiki}]" for r in triggered],
           # With ALARM_CONFIRMED_ONLY: wikis whose editors' blocks could not be checked.
           "blocks_unchecked": sorted(blocks.unchecked)})


@click.command("purge")
@with_appcontext
@_needs_database("purge")
def purge_command() -> None:
    """Remove user names and comments older than RETENTION_DAYS (counts are kept)."""
    svc = _service()
    _echo({"job": "purge", **purge.run(svc.store, int(svc.config["RETENTION_DAYS"]))})


def _control(action: str, wiki: str, task: str, reason: str, actor: str) -> None:
    from suggest.web.admin import InvalidControl, change_pause

    try:
        change_pause(_service(), action, wiki, task, reason, actor)
    except InvalidControl as error:
        raise click.ClickException(str(error)) from None
    _echo({"action": action, "wiki": wiki, "task": task, "actor": actor})


@click.command("pause")
@with_appcontext
@_needs_database("pause")
@click.argument("wiki")
@click.argument("task")
@click.option("--reason", required=True, help="Shown in the public audit log.")
@click.option("--actor", default=OPERATOR, show_default=True)
def pause_command(wiki: str, task: str, reason: str, actor: str) -> None:
    """Pause TASK on WIKI: the API stops issuing its suggestions."""
    _control("pause", wiki, task, reason, actor)


@click.command("resume")
@with_appcontext
@_needs_database("resume")
@click.argument("wiki")
@click.argument("task")
@click.option("--reason", required=True, help="Shown in the public audit log.")
@click.option("--actor", default=OPERATOR, show_default=True)
def resume_command(wiki: str, task: str, reason: str, actor: str) -> None:
    """Resume TASK on WIKI."""
    _control("resume", wiki, task, reason, actor)


@click.command("new-generation")
@with_appcontext
@_needs_database("new-generation")
def new_generation_command() -> None:
    """After restoring the database from a backup: give it a new id, so that results cached for
    it before, which may name suggestions the backup lacks, are computed again."""
    _echo({"action": "new-generation", "generation": _service().store.new_generation()})


def register(app: Flask) -> None:
    for command in (verify_command, monitor_command, purge_command, pause_command, resume_command,
                    new_generation_command):
        app.cli.add_command(command)
