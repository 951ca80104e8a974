"""MLflow operators: register a challenger, gate its promotion, roll back, audit reproducibility.

Thin over :mod:`airflow_provider_parity.tracking`; mlflow is imported inside ``execute``.
Bad input and a failed gate fail the task without retries (they will not fix themselves);
an unreachable tracking server raises ``ServiceUnavailable``, which Airflow may retry: every
operator leaves the registry unchanged until its last write, so a retry is safe.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, urlsplit

from airflow.sdk import BaseOperatorLink

from airflow_provider_parity.compat import (
    AirflowFailException,
    AirflowSkipException,
    BaseOperator,
)
from airflow_provider_parity.exceptions import OperatorArgumentError
from airflow_provider_parity.operators.arguments import check_number, check_text
from airflow_provider_parity.operators.base import GateMixin, LineageMixin, guard

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context
    from airflow.sdk.types import TaskInstanceKey
    from mlflow import MlflowClient

    from airflow_provider_parity.hooks.mlflow import MlflowHook
    from airflow_provider_parity.outcomes.model import GateOutcome
    from airflow_provider_parity.tracking.promotion import (
        PromotionDecision,
        PromotionPolicy,
    )
    from airflow_provider_parity.tracking.record import PinnedInput

XCOM_MODEL_URL = "mlflow_model_version_url"


def model_dataset_uri(tracking_uri: str, name: str) -> str:
    """The OpenLineage URI of a registered model: ``mlflow://<server>/models/<name>``."""
    parts = urlsplit(tracking_uri)
    server = parts.netloc if parts.scheme in ("http", "https") and parts.netloc else "local"
    return f"mlflow://{server}/models/{name}"


def model_version_url(tracking_uri: str, name: str, version: str) -> str:
    """The MLflow UI page of a model version ('' for a store without a UI server)."""
    if urlsplit(tracking_uri).scheme not in ("http", "https"):
        return ""
    return f"{tracking_uri.rstrip('/')}/#/models/{quote(name, safe='')}/versions/{version}"


class MlflowModelVersionLink(BaseOperatorLink):
    """Opens the model version the task registered, promoted or rolled back to."""

    name = "MLflow model version"

    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        return str(XCom.get_value(ti_key=ti_key, key=XCOM_MODEL_URL) or "")


class _MlflowOperator(LineageMixin, BaseOperator):
    """Shared by the MLflow operators: the hook, error mapping and OpenLineage datasets."""

    template_fields: Sequence[str] = ("model_name", "mlflow_conn_id")
    operator_extra_links = (MlflowModelVersionLink(),)
    ui_color = "#e3ecf7"

    def __init__(self, *, model_name: str, mlflow_conn_id: str | None = "mlflow_default", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_text(type(self).__name__, "model_name", model_name)
        self.model_name = model_name
        self.mlflow_conn_id = mlflow_conn_id
        self._inputs: list[PinnedInput] = []
        self._version: str | None = None

    @cached_property
    def _hook(self) -> MlflowHook:
        from airflow_provider_parity.hooks.mlflow import MlflowHook

        return MlflowHook(self.mlflow_conn_id)

    def hook(self) -> MlflowHook:
        """The task's MLflow hook, built once."""
        return self._hook

    @contextmanager
    def _session(self) -> Iterator[MlflowClient]:
        """A client; bad input and gate failures become non-retried task failures."""
        with guard(self), self.hook().client() as client:
            yield client

    def _note_version(self, client: MlflowClient, version: str | None, context: Context | None) -> None:
        """Remember the version and its recorded data, for lineage and the extra link."""
        from airflow_provider_parity.tracking import keys
        from airflow_provider_parity.tracking.reproduce import recorded_inputs

        if version is None:
            return
        self._version = version
        tags = dict(client.get_model_version(self.model_name, version).tags or {})
        if keys.DATA in tags:
            self._inputs = recorded_inputs(tags, f"{self.model_name} v{version}")
        url = model_version_url(self.hook().settings.tracking_uri, self.model_name, version)
        ti = (context or {}).get("ti")
        if ti is not None and url:
            ti.xcom_push(key=XCOM_MODEL_URL, value=url)

    def _request_id(self, context: Context) -> str | None:
        """``dag_id/run_id/task_id``: the same for every try, so a retry is recognised as one."""
        ti = context.get("ti")
        return None if ti is None else f"{ti.dag_id}/{ti.run_id}/{ti.task_id}"

    # --- OpenLineage ------------------------------------------------------------------

    def _has_model_output(self) -> bool:
        return True

    def _lineage(self, error: BaseException | None) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity.lineage import (
            error_facets,
            input_dataset,
            operator_lineage,
            output_dataset,
        )

        inputs = [input_dataset(i.uri, version=i.version) for i in self._inputs]
        outputs = []
        if self._has_model_output():
            uri = model_dataset_uri(self.hook().settings.tracking_uri, self.model_name)
            outputs.append(output_dataset(uri, version=self._version))
        run_facets = {**error_facets(error), **self._extra_run_facets()}
        return operator_lineage(inputs=inputs, outputs=outputs, run_facets=run_facets)

    def _extra_run_facets(self) -> dict[str, Any]:
        return {}

    def _model_uri(self) -> str:
        return model_dataset_uri(self.hook().settings.tracking_uri, self.model_name)


class MlflowRegisterModelOperator(_MlflowOperator):
    """Register a training run's model as a new version and make it the ``challenger``.

    The run's training record (``parity.*`` tags: data versions and fingerprints, contract,
    gates, code) is copied onto the model version. Safe to retry: a version already registered
    from the same run is reused. Returns the registered version (``RegisteredVersion`` as a dict).

    Args:
        model_name: the registered model (templated).
        run_id: the training run (templated), e.g. ``"{{ ti.xcom_pull('train')['run_id'] }}"``.
        artifact_path: the name the model was logged under.
        alias: the alias to set (default ``challenger``).
        extra_tags: more model-version tags.
        require_record: refuse a run without a training record.
        mlflow_conn_id: an ``mlflow`` connection; None for the local store.
    """

    template_fields: Sequence[str] = ("model_name", "mlflow_conn_id", "run_id", "artifact_path", "alias")

    def __init__(self, *, run_id: str, artifact_path: str = "model", alias: str = "challenger",
                 extra_tags: Mapping[str, str] | None = None, require_record: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_text(type(self).__name__, "run_id", run_id)
        check_text(type(self).__name__, "alias", alias)
        self.run_id = run_id
        self.artifact_path = artifact_path
        self.alias = alias
        self.extra_tags = dict(extra_tags or {})
        self.require_record = require_record

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_parity.tracking.registry import register_model

        with self._session() as client:
            registered = register_model(client, run_id=self.run_id, name=self.model_name,
                                        artifact_path=self.artifact_path, alias=self.alias,
                                        extra_tags=self.extra_tags, require_record=self.require_record)
            self._note_version(client, registered.version, context)
        self.log.info("Registered %s v%s from run %s (alias %s%s)", registered.name, registered.version,
                      registered.run_id, registered.alias, "" if registered.created else ", existing version reused")
        return dataclasses.asdict(registered)


class MlflowPromotionGateOperator(GateMixin, _MlflowOperator):
    """Move the ``champion`` alias to the challenger only when the promotion policy passes.

    The policy checks the data gates recorded on the challenger, metric thresholds per
    evaluation slice (absolute and relative to the champion) and optionally a minimum time
    since the last promotion. The decision is recorded on the model version, a comparison
    report (JSON + HTML) is logged on the challenger's run, and the alias switch is the last
    write: a failure before it leaves the champion as it was, and a retry is safe.

    Args:
        model_name: the registered model (templated).
        policy: a ``PromotionPolicy`` or its dict form (templated), e.g.
            ``{"metrics": [{"metric": "auc", "slices": ["overall"], "max_drop": 0.005}], "min_interval": "24h"}``.
        challenger_version: default the version under the ``challenger`` alias (templated).
        on_blocked: ``"fail"`` the task, or ``"skip"`` it so downstream tasks are skipped too.
        report: log the comparison report on the challenger's run.
        before_switch: called with the passing decision just before the alias switch.
        mlflow_conn_id: an ``mlflow`` connection; None for the local store.
    """

    gate_kind = "promotion"
    template_fields: Sequence[str] = ("model_name", "mlflow_conn_id", "policy", "challenger_version")

    def __init__(self, *, policy: PromotionPolicy | Mapping[str, Any] | str, challenger_version: str | int | None = None,
                 on_blocked: Literal["fail", "skip"] = "fail", report: bool = True,
                 before_switch: Callable[[PromotionDecision], None] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if on_blocked not in ("fail", "skip"):
            raise OperatorArgumentError(f"{type(self).__name__}: on_blocked must be 'fail' or 'skip', got {on_blocked!r}")
        check_number(type(self).__name__, "challenger_version", challenger_version, minimum=1)
        self.policy = policy
        self.challenger_version = challenger_version
        self.on_blocked = on_blocked
        self.report = report
        self.before_switch = before_switch

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_parity.exceptions import PromotionBlocked

        try:
            outcome = self.run_gate(context, lambda: self._evaluate(context), dataset=self.model_name)
        except AirflowFailException as exc:
            if self.on_blocked == "skip" and isinstance(self._error, PromotionBlocked):
                raise AirflowSkipException(str(self._error)) from exc
            raise
        return outcome.to_dict()

    def _evaluate(self, context: Context) -> GateOutcome:
        from airflow_provider_parity.exceptions import PromotionBlocked
        from airflow_provider_parity.tracking.promotion import PromotionPolicy, promote

        version = None if self.challenger_version in (None, "", "None") else str(self.challenger_version)
        policy = PromotionPolicy.coerce(self.policy)
        with self.hook().client() as client:
            try:
                # With approval required the alias waits for a person (operators/approval.py).
                result = promote(client, self.model_name, policy, challenger_version=version,
                                 request_id=self._request_id(context), report=self.report,
                                 before_switch=self.before_switch, hold=policy.approval == "required")
            except PromotionBlocked as exc:
                self._note_version(client, exc.result.challenger, context)
                exc.outcome = promotion_outcome(exc.result, str(exc), self._model_uri())  # type: ignore[attr-defined]
                raise
            self._note_version(client, result.decision.challenger if result.held else result.champion, context)
        if result.held:
            return promotion_outcome(result.decision, f"{self.model_name} v{result.decision.challenger} passed: "
                                     f"{result.decision.reason}; awaiting approval", self._model_uri()).with_(
                metrics={"promoted": False, "awaiting_approval": True, "champion": result.previous_champion})
        self.log.info("%s: champion is v%s (was %s)%s", self.model_name, result.champion,
                      result.previous_champion or "none", "" if result.promoted else ", already promoted")
        reason = (f"{self.model_name} v{result.champion} is champion (was {result.previous_champion or 'none'}): "
                  f"{result.decision.reason}")
        return promotion_outcome(result.decision, reason, self._model_uri()).with_(
            metrics={"promoted": result.promoted, "champion": result.champion,
                     "previous_champion": result.previous_champion})

    def _extra_run_facets(self) -> dict[str, Any]:
        return self.outcome_run_facets()


def promotion_outcome(decision: PromotionDecision, reason: str, model_uri: str) -> GateOutcome:
    """A promotion decision as a gate outcome: every policy check with observed versus expected."""
    from airflow_provider_parity.outcomes.model import Check, GateOutcome

    checks = tuple(Check(name=f"{c.kind}({c.name})" if c.slice is None else f"{c.kind}({c.name}@{c.slice})",
                         success=c.passed, observed=None if c.observed is None else str(c.observed),
                         expected=c.expected or None,
                         value=c.observed if isinstance(c.observed, (int, float)) else None) for c in decision.checks)
    return GateOutcome(gate="promotion", status="passed" if decision.passed else "failed",
                       blocking=not decision.passed, reason=reason, dataset=model_uri,
                       version=int(decision.challenger) if str(decision.challenger).isdigit() else None, checks=checks)


class MlflowRollbackOperator(_MlflowOperator):
    """Move ``champion`` back to the previous champion (from the history on the registered model).

    The reason is recorded on the demoted version and in the history. A retry of the same task
    instance does not roll back a second time.

    Args:
        model_name: the registered model (templated).
        reason: why (templated; required).
        to_version: an explicit target version (templated); default the previous champion.
        mlflow_conn_id: an ``mlflow`` connection; None for the local store.
    """

    template_fields: Sequence[str] = ("model_name", "mlflow_conn_id", "reason", "to_version")

    def __init__(self, *, reason: str, to_version: str | int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_text(type(self).__name__, "reason", reason)
        check_number(type(self).__name__, "to_version", to_version, minimum=1)
        self.reason = reason
        self.to_version = to_version

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_parity.tracking.rollback import rollback

        target = None if self.to_version in (None, "", "None") else str(self.to_version)
        with self._session() as client:
            result = rollback(client, self.model_name, reason=self.reason, to_version=target,
                              request_id=self._request_id(context))
            self._note_version(client, result.to_version, context)
        self.log.info("%s: champion v%s -> v%s (%s)", self.model_name, result.from_version, result.to_version,
                      result.reason)
        return dataclasses.asdict(result)


class MlflowReproduceOperator(GateMixin, _MlflowOperator):
    """Recreate a model version's training set from its recorded Delta versions and compare.

    Fails when a fingerprint or row count differs, or when the data can no longer be read
    (e.g. vacuumed); the message names the table, the version and what differs.

    Args:
        model_name: the registered model (templated).
        version: the model version (templated).
        delta_conn_id: a ``delta`` connection with the storage credentials of the tables.
        read_data: read the data back, not only the log.
        mlflow_conn_id: an ``mlflow`` connection; None for the local store.
    """

    gate_kind = "reproduce"
    template_fields: Sequence[str] = ("model_name", "mlflow_conn_id", "version")

    def __init__(self, *, version: str | int, delta_conn_id: str | None = None, read_data: bool = True,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        check_number(type(self).__name__, "version", version, minimum=1, optional=False)
        self.version = version
        self.delta_conn_id = delta_conn_id
        self.read_data = read_data

    def _has_model_output(self) -> bool:
        return False

    def execute(self, context: Context) -> dict[str, Any]:
        return self.run_gate(context, lambda: self._evaluate(context), dataset=self.model_name).to_dict()

    def _evaluate(self, context: Context) -> GateOutcome:
        from airflow_provider_parity.outcomes.model import Check, GateOutcome
        from airflow_provider_parity.tracking.reproduce import audit_version

        options = None
        if self.delta_conn_id:
            from airflow_provider_parity.hooks.delta import DeltaTableHook

            options = DeltaTableHook(self.delta_conn_id).storage_options
        with self.hook().client() as client:
            report = audit_version(client, self.model_name, self.version, storage_options=options,
                                   read_data=self.read_data)
            self._note_version(client, report.version, context)
        checks = tuple(Check(name=f"reproduce({i.name})", success=i.status == "match",
                             observed=f"fingerprint {i.fingerprint} rows {i.row_count} ({i.status})",
                             expected=f"fingerprint {i.recorded_fingerprint} rows {i.recorded_row_count}")
                       for i in report.inputs)
        verdict = "reproduced" if report.passed else "not reproducible"
        return GateOutcome(gate="reproduce", status="passed" if report.passed else "failed", blocking=not report.passed,
                           reason=f"{report.model} v{report.version} {verdict}: {report.reason}",
                           dataset=self._model_uri(), version=int(report.version) if report.version.isdigit() else None,
                           checks=checks)

    def _extra_run_facets(self) -> dict[str, Any]:
        return self.outcome_run_facets()
