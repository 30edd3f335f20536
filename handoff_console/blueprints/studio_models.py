"""The studio's Models page and API: train, compare, activate and roll back (admins only).

``/studio/models`` is the page; its script polls the training run and calls the API:

* ``GET /api/studio/models``: every version, the live and the active one;
* ``GET /api/studio/models/{id}/comparison``: a version against the live one;
* ``POST /api/studio/models/{id}/activate``: make it live (``PUT /model`` on Rasa);
* ``POST /api/studio/models/rollback``: make the previous live version live again;
* ``GET|POST /api/studio/training-runs``, ``GET /api/studio/training-runs/{id}``.

The registry, training runs and settings live on ``app.ctx.studio_models`` (set up when
the server starts).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console import api
from handoff_console.blueprints.studio_frame import (
    parse_body,
    require_admin,
    studio_operation,
    studio_page,
)
from handoff_console.schemas.studio_models import (
    ActivateBody,
    ActiveModelView,
    Comparison,
    ModelHistory,
    ModelList,
    ModelVersionView,
    TrainBody,
    TrainingRunView,
)
from handoff_console.services.errors import BadRequest, Conflict, NotFound, UpstreamUnavailable
from handoff_console.studio.models import ActiveModel, ModelVersion, UnknownVersion
from handoff_console.studio.models.activation import (
    RasaModelError,
    RegressionBlocked,
    activate,
    live_version,
    rasa_model_file,
    record_activation,
)
from handoff_console.studio.models.comparison import compare
from handoff_console.studio.models.heldout import labelled_messages
from handoff_console.studio.models.runs import TrainingBusy, TrainingRuns
from handoff_console.studio.models.settings import ModelsSettings

__all__ = ["StudioModels", "active_view", "bp"]

bp = Blueprint("studio_models")
TAG = "studio: models"
B = TypeVar("B", bound=BaseModel)
RASA_DOWN = "rasa_unreachable: the Rasa server could not be reached or refused the model"
FORBIDDEN = {403: "forbidden"}
NOT_FOUND = {**FORBIDDEN, 404: "not_found"}


@dataclass
class StudioModels:
    """What the page and the API share: the settings and the training runs."""

    settings: ModelsSettings
    runs: TrainingRuns


@bp.listener("before_server_start")
async def _start(app: Sanic, _loop: Any) -> None:
    settings = ModelsSettings.from_env()
    runs = TrainingRuns(settings.registry, settings.inputs, settings.folds)
    runs.adopt()  # runs recorded by an earlier console: follow or settle them
    app.ctx.studio_models = StudioModels(settings, runs)


@bp.listener("before_server_stop")
async def _stop(app: Sanic, _loop: Any) -> None:
    await app.ctx.studio_models.runs.stop()


def _studio(request: Request) -> StudioModels:
    studio: StudioModels = request.app.ctx.studio_models
    return studio


def _op(summary: str, ok: Any, errors: dict[int, str], **details: Any) -> api.Operation:
    return studio_operation(summary, ok, tag=TAG, errors=errors, **details)


def _body(request: Request, model: type[B]) -> B:
    return parse_body(request, model, "bad_body")


def active_view(active: ActiveModel | None) -> dict[str, Any] | None:
    """The JSON of the active record (also used by the footer and the status page)."""
    if active is None:
        return None
    previous = f"v{active.previous}" if active.previous is not None else None
    return ActiveModelView.view(
        version=active.label,
        activated_at=active.activated_at,
        activated_by=active.activated_by,
        how=active.how,
        previous=previous,
    )


def _version_view(version: ModelVersion, live: str | None, active: int | None) -> dict[str, Any]:
    cv = (version.evaluation or {}).get("cv")
    return ModelVersionView.view(
        id=version.number,
        version=version.label,
        created_at=version.created_at,
        source=version.source,
        created_by=version.created_by,
        data_hash=version.data_hash,
        evaluated=cv is not None,
        macro_f1=None if cv is None else cv["macro_f1"],
        live=live == version.file_name,
        active=active == version.number,
    )


async def _live(request: Request) -> tuple[ModelVersion | None, str | None, bool]:
    settings = request.app.ctx.settings
    registry = _studio(request).settings.registry
    try:
        version, model_file = await live_version(registry, settings.rasa_url, settings.rasa_token)
    except RasaModelError:
        return None, None, False
    return version, model_file, True


def _get(number: int) -> Any:
    raise NotFound("not_found", f"There is no model v{number}.")


LIST = _op("Every trained model version, and the live and active ones", ModelList, FORBIDDEN)


@api.route(bp, "GET", "/api/studio/models", LIST)
async def list_models(request: Request) -> HTTPResponse:
    """Every version, newest first."""
    studio = _studio(request)
    registry = studio.settings.registry
    _version, model_file, reachable = await _live(request)
    active = registry.active()
    number = active.number if active else None
    running = studio.runs.running()
    return response.json(
        ModelList.view(
            items=[_version_view(v, model_file, number) for v in reversed(registry.versions())],
            active=active_view(active),
            live_model_file=model_file,
            rasa_reachable=reachable,
            running_run=running.id if running else None,
        )
    )


COMPARE = _op(
    "A version side by side with the live one: per-intent F1, confusions, held-out messages",
    Comparison,
    NOT_FOUND,
)


@api.route(bp, "GET", "/api/studio/models/<number:id>/comparison", COMPARE)
async def comparison(request: Request, number: int) -> HTTPResponse:
    """The comparison, and whether a regression blocks activation."""
    settings = _studio(request).settings
    try:
        version = settings.registry.get(number)
    except UnknownVersion:
        return _get(number)  # type: ignore[no-any-return]
    live, _file, _reachable = await _live(request)
    return response.json(Comparison.of(compare(version, live, settings.tolerance)))


ACTIVATE = _op(
    "Make a version live in the running Rasa server (PUT /model), unless it regresses",
    ActiveModelView,
    {
        400: "bad_body, or reason_required (an override needs a reason)",
        **NOT_FOUND,
        409: "regression: the version regresses beyond the tolerance (with regressions)",
        502: RASA_DOWN,
    },
    body=ActivateBody,
)


async def _make_live(
    request: Request, number: int, *, override: bool, reason: str, rollback: bool
) -> HTTPResponse:
    studio, settings = _studio(request), request.app.ctx.settings
    me = api.staff(request)
    try:
        active, judged = await activate(
            studio.settings.registry,
            number,
            rasa_url=settings.rasa_url,
            token=settings.rasa_token,
            activated_by=me.username,
            tolerance=studio.settings.tolerance,
            override=override,
            rollback=rollback,
        )
    except UnknownVersion:
        return _get(number)  # type: ignore[no-any-return]
    except RegressionBlocked as blocked:
        raise Conflict(
            "regression",
            f"v{number} regresses: {blocked}. Override it to go live anyway.",
            regressions=blocked.comparison["regressions"],
        ) from None
    except RasaModelError as error:
        raise UpstreamUnavailable("rasa_unreachable", str(error)) from None
    await api.in_store(request, lambda s: record_activation(s, me.id, active, judged, reason))
    return response.json(active_view(active))


@api.route(bp, "POST", "/api/studio/models/<number:id>/activate", ACTIVATE)
async def activate_model(request: Request, number: int) -> HTTPResponse:
    """Activate a version; ``override`` (with a reason) goes live despite regressions."""
    body = _body(request, ActivateBody)
    if body.override and not body.reason:
        raise BadRequest("reason_required", "Say why the regressions are acceptable.")
    return await _make_live(
        request, number, override=body.override, reason=body.reason, rollback=False
    )


ROLLBACK = _op(
    "Make the version that was live before the active one live again",
    ActiveModelView,
    {**FORBIDDEN, 409: "nothing_to_roll_back", 502: RASA_DOWN},
)


@api.route(bp, "POST", "/api/studio/models/rollback", ROLLBACK)
async def rollback(request: Request) -> HTTPResponse:
    """Roll back to the previous live version (no regression check: it was live before)."""
    active = _studio(request).settings.registry.active()
    if active is None or active.previous is None:
        raise Conflict("nothing_to_roll_back", "No earlier live version is recorded.")
    return await _make_live(request, active.previous, override=False, reason="", rollback=True)


RUNS = _op(
    "The training runs recorded in the model registry (the newest 20), newest first",
    api.ItemList(TrainingRunView),
    FORBIDDEN,
)
TRAIN = _op(
    "Train a model in the background from the studio's training data, and evaluate it",
    TrainingRunView,
    {400: "bad_body", **FORBIDDEN, 409: "busy: a model is being trained"},
    status=202,
    body=TrainBody,
)
RUN = _op("One training run: its progress, then its version or error", TrainingRunView, NOT_FOUND)


@api.route(bp, "GET", "/api/studio/training-runs", RUNS)
async def list_runs(request: Request) -> HTTPResponse:
    """Every kept run; a run whose job died is shown interrupted."""
    runs = _studio(request).runs.all()
    return response.json({"items": [TrainingRunView.view(**run.as_json()) for run in runs]})


@api.route(bp, "POST", "/api/studio/training-runs", TRAIN)
async def start_run(request: Request) -> HTTPResponse:
    """Start training (one run at a time); poll the run for its progress."""
    body = _body(request, TrainBody)
    studio = _studio(request)
    live, _file, _reachable = await _live(request)
    baseline = live.number if live is not None else None
    labelled = await api.in_store(request, labelled_messages) if body.evaluate else []
    try:
        run = await studio.runs.start(
            api.staff(request).username,
            evaluate=body.evaluate,
            baseline=baseline,
            labelled=labelled,
        )
    except TrainingBusy as busy:
        raise Conflict("busy", str(busy)) from None
    return response.json(TrainingRunView.view(**run.as_json()), status=202)


@api.route(bp, "GET", "/api/studio/training-runs/<run_id:id>", RUN)
async def get_run(request: Request, run_id: int) -> HTTPResponse:
    """One run."""
    run = _studio(request).runs.get(run_id)
    if run is None:
        raise NotFound("not_found", f"There is no training run {run_id}.")
    return response.json(TrainingRunView.view(**run.as_json()))


HISTORY = api.Operation(
    "The assistant's live model version and every activation, for analytics",
    ModelHistory,
    roles=("manager", "admin"),
    errors=FORBIDDEN,
    tag="analytics",
)


@api.route(bp, "GET", "/api/analytics/model", HISTORY)
async def model_history(request: Request) -> HTTPResponse:
    """Which model answers now and since when each version did (managers and admins)."""
    registry = _studio(request).settings.registry
    live, model_file, _reachable = await _live(request)
    return response.json(
        ModelHistory.view(
            live_version=None if live is None else live.label,
            live_model_file=model_file,
            active=active_view(registry.active()),
            activations=[active_view(a) for a in registry.activations()],
        )
    )


@bp.get("/studio/models", name="studio_models")
@require_admin
async def models_page(request: Request) -> HTTPResponse:
    """The Models page: train, compare, activate, roll back."""
    settings = request.app.ctx.settings
    try:
        model_file = await rasa_model_file(settings.rasa_url, settings.rasa_token)
    except RasaModelError:
        model_file = None
    return studio_page(
        request,
        "studio_models.html",
        "models",
        live_model_file=model_file,
        page_scripts=["studio_models.js"],
    )
