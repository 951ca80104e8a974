"""Heavy steps (dbt, training, Spark) in the worker or in a pod, chosen by configuration.

``parity_step()`` is what DAG files call. With ``[parity] execution_mode = local`` (the
embedded default) it returns a :class:`ParityStepOperator` that calls the step in the worker;
with ``kubernetes`` it returns a ``KubernetesPodOperator`` that runs ``parity step run`` in a
pod built from ``[parity] pod_template_file`` and ``pod_image``. A platform team switches a
deployment to pods with one setting, without editing DAG files. Both push the step's result
dict as the task's XCom.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.compat import BaseOperator, parity_option
from airflow_provider_parity.exceptions import OperatorArgumentError
from airflow_provider_parity.operators.base import GateMixin, guard

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_parity.outcomes.model import GateOutcome

ExecutionMode = Literal["local", "kubernetes"]
# Where KubernetesPodOperator's xcom sidecar reads a pod's result.
POD_XCOM_FILE = "/airflow/xcom/return.json"


class ParityStepOperator(GateMixin, BaseOperator):
    """Call a step function (``"package.module:function"``) in the worker.

    Args:
        step: the function, as ``"package.module:function"``; it takes JSON-able keyword
            arguments and returns a JSON-able dict (see ``airflow_provider_parity.steps``).
        op_kwargs: its keyword arguments (templated).
        gate: the kind of gate the step is (e.g. ``"dbt"`` for a build whose data tests judge the
            data): its result or failure becomes a gate outcome (XCom ``parity_outcome`` and a
            ledger row). None for a plain step.
        inputs: the datasets the step reads (URIs, templated), for lineage before it returns (its
            START event) and when it fails; a result's own ``inputs`` win once it returns.
        outputs: the datasets it writes, likewise.

    A step raising a gate failure or bad input fails the task at once (no retry: the data will
    not change by itself) with the step's one-line message.
    """

    template_fields = ("op_kwargs", "inputs", "outputs")
    ui_color = "#e8f4ea"

    def __init__(self, *, step: str, op_kwargs: Mapping[str, Any] | None = None, gate: str | None = None,
                 inputs: list[str] | None = None, outputs: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        module, _, function = step.partition(":") if isinstance(step, str) else ("", "", "")
        if not module or not function.isidentifier():
            raise OperatorArgumentError(f"ParityStepOperator: step must be 'package.module:function', got {step!r}")
        if op_kwargs is not None and not isinstance(op_kwargs, Mapping):
            raise OperatorArgumentError(f"ParityStepOperator: op_kwargs must be a mapping, got {type(op_kwargs).__name__}")
        self.step = step
        self.op_kwargs = dict(op_kwargs or {})
        self.gate = gate
        if gate:
            self.gate_kind = gate
        self.inputs = list(inputs or [])
        self.outputs = list(outputs or [])
        self._result: dict[str, Any] | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_parity.steps import run_step

        if not self.gate:
            with guard(self):
                self._result = run_step(self.step, self.op_kwargs)
            return self._result
        self.run_gate(context, self._evaluate, dataset=next(iter(self.outputs), None))
        assert self._result is not None
        return self._result

    def _evaluate(self) -> GateOutcome:
        from airflow_provider_parity.steps import run_step, step_outcome

        self._result = run_step(self.step, self.op_kwargs)
        return step_outcome(self.step, self._result, gate=self.gate or "step", dataset=next(iter(self.outputs), None))

    def _datasets(self, key: str) -> list[tuple[str, str | None]]:
        from airflow_provider_parity.steps import lineage_datasets

        found = lineage_datasets(self._result, key)
        return found or [(uri, None) for uri in (self.inputs if key == "inputs" else self.outputs) if uri]

    def _lineage(self, error: BaseException | None) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity import lineage

        quality = lineage.outcome_quality_facets(self._outcome) if self._outcome is not None else {}
        inputs = [lineage.input_dataset(uri, version=v, input_facets=quality)
                  for uri, v in self._datasets("inputs")]
        return lineage.operator_lineage(
            inputs=inputs,
            outputs=[lineage.output_dataset(uri, version=v) for uri, v in self._datasets("outputs")],
            run_facets={**lineage.error_facets(error), **self.outcome_run_facets()},
        )


def execution_mode() -> ExecutionMode:
    """``[parity] execution_mode``; anything but ``local`` or ``kubernetes`` is a configuration error."""
    from airflow_provider_parity.exceptions import ConfigurationError

    mode = parity_option("execution_mode", "local").strip().lower() or "local"
    if mode not in ("local", "kubernetes"):
        raise ConfigurationError(f"[parity] execution_mode must be 'local' or 'kubernetes', got {mode!r}")
    return mode  # type: ignore[return-value]


def parity_step(
    *,
    task_id: str,
    step: str,
    op_kwargs: Mapping[str, Any] | None = None,
    mode: ExecutionMode | None = None,
    pod_kwargs: Mapping[str, Any] | None = None,
    gate: str | None = None,
    inputs: list[str] | None = None,
    outputs: list[str] | None = None,
    **kwargs: Any,
) -> BaseOperator:
    """The operator that runs ``step`` where this deployment runs heavy work.

    Args:
        task_id: the task id.
        step: ``"package.module:function"``.
        op_kwargs: the step's keyword arguments (templated in both modes). In pod mode they
            travel as JSON on the command line: no secrets here (pods get theirs from the pod
            template's Secrets).
        mode: override ``[parity] execution_mode`` (tests, or a step that must stay local).
        pod_kwargs: extra ``KubernetesPodOperator`` arguments (resources, node selector, ...).
        gate: the kind of gate the step is (see :class:`ParityStepOperator`); in pod mode the task
            still blocks on failure (the pod exits 1), and the pod appends the outcome to the ledger
            itself (``parity step run --gate``), under the task try that started it.
        inputs: datasets the step reads, for lineage (see :class:`ParityStepOperator`).
        outputs: datasets the step writes, likewise.
        **kwargs: BaseOperator arguments (retries, pool, callbacks, ...).

    Returns:
        A ``ParityStepOperator`` or a ``KubernetesPodOperator``.
    """
    chosen = mode or execution_mode()
    if chosen == "local":
        return ParityStepOperator(task_id=task_id, step=step, op_kwargs=op_kwargs, gate=gate, inputs=inputs,
                                  outputs=outputs, **kwargs)
    return _pod_step(task_id=task_id, step=step, op_kwargs=dict(op_kwargs or {}), pod_kwargs=dict(pod_kwargs or {}),
                     gate=gate, dataset=next(iter(outputs or []), None), **kwargs)


_WHOLE_EXPRESSION = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.S)


def kwargs_template(op_kwargs: Mapping[str, Any]) -> str:
    """The step's kwargs as JSON text that stays JSON once Airflow renders its templates.

    A value that is one whole Jinja expression (``"{{ ti.xcom_pull(...) }}"``, a gate outcome, a
    version) may render to a dict, a number or text with quotes: it is emitted unquoted as
    ``{{ (expr) | tojson }}``, so it renders to its JSON form. Values that mix text and Jinja (a
    path with ``{{ ds }}`` in it) stay JSON strings.
    """
    markers: dict[str, str] = {}

    def mark(value: Any) -> Any:
        if isinstance(value, str):
            match = _WHOLE_EXPRESSION.match(value)
            if match and "{{" not in match.group(1) and "}}" not in match.group(1):
                key = f"@@parity-expression-{len(markers)}@@"
                markers[key] = "{{ (" + match.group(1).strip() + ") | tojson }}"
                return key
            return value
        if isinstance(value, Mapping):
            return {str(k): mark(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [mark(v) for v in value]
        return value

    text = json.dumps(mark(op_kwargs), sort_keys=True)
    for key, expression in markers.items():
        text = text.replace(json.dumps(key), expression)
    return text


# The task try a pod's gate outcome belongs to, rendered by Airflow like the other arguments.
_POD_RUN = ('--run={"dag_id": {{ ti.dag_id | tojson }}, "run_id": {{ run_id | tojson }}, '
            '"task_id": {{ ti.task_id | tojson }}, "map_index": {{ ti.map_index | tojson }}, '
            '"try_number": {{ ti.try_number | tojson }}}')


def _gate_arguments(gate: str | None, dataset: str | None) -> list[str]:
    """What makes ``parity step run`` in a pod publish its gate outcome to the ledger itself:
    the pod's result travels through its return.json, but the ledger row must not depend on the
    worker that started it."""
    if not gate:
        return []
    from airflow_provider_parity.operators.base import ledger_uri

    dataset_arg = [f"--dataset={dataset}"] if dataset else []
    return [f"--gate={gate}", *dataset_arg, f"--ledger={ledger_uri()}", _POD_RUN]


def _pod_step(*, task_id: str, step: str, op_kwargs: dict[str, Any], pod_kwargs: dict[str, Any],
              gate: str | None = None, dataset: str | None = None, **kwargs: Any) -> BaseOperator:
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    from airflow_provider_parity.exceptions import ConfigurationError

    image = parity_option("pod_image", "")
    template = parity_option("pod_template_file", "")
    if not image and not template:
        raise ConfigurationError("execution_mode = kubernetes needs [parity] pod_image or pod_template_file")
    settings: dict[str, Any] = {
        "name": f"parity-{task_id}".replace("_", "-"),
        "cmds": ["parity", "step", "run"],
        # KubernetesPodOperator templates `arguments`, so Jinja in op_kwargs renders as it does locally.
        # One "--kwargs=<json>" word: a DAG rendering templates as native objects would otherwise turn
        # the JSON text into a dict.
        "arguments": [step, f"--kwargs={kwargs_template(op_kwargs)}", f"--xcom-file={POD_XCOM_FILE}",
                      *_gate_arguments(gate, dataset)],
        "do_xcom_push": True,
        "get_logs": True,
        "on_finish_action": "delete_succeeded_pod",
    }
    if image:
        settings["image"] = image
    if template:
        settings["pod_template_file"] = template
    if parity_option("pod_namespace", ""):
        settings["namespace"] = parity_option("pod_namespace", "")
    settings.update(pod_kwargs)
    return KubernetesPodOperator(task_id=task_id, **settings, **kwargs)  # type: ignore[no-any-return]
