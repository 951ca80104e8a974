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
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from airflow_provider_parity.compat import BaseOperator, parity_option
from airflow_provider_parity.exceptions import OperatorArgumentError

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

ExecutionMode = Literal["local", "kubernetes"]
# Where KubernetesPodOperator's xcom sidecar reads a pod's result.
POD_XCOM_FILE = "/airflow/xcom/return.json"


class ParityStepOperator(BaseOperator):
    """Call a step function (``"package.module:function"``) in the worker.

    Args:
        step: the function, as ``"package.module:function"``; it takes JSON-able keyword
            arguments and returns a JSON-able dict (see ``airflow_provider_parity.steps``).
        op_kwargs: its keyword arguments (templated).

    A step raising a gate failure or bad input fails the task at once (no retry: the data will
    not change by itself) with the step's one-line message.
    """

    template_fields = ("op_kwargs",)
    ui_color = "#e8f4ea"

    def __init__(self, *, step: str, op_kwargs: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        module, _, function = step.partition(":") if isinstance(step, str) else ("", "", "")
        if not module or not function.isidentifier():
            raise OperatorArgumentError(f"ParityStepOperator: step must be 'package.module:function', got {step!r}")
        if op_kwargs is not None and not isinstance(op_kwargs, Mapping):
            raise OperatorArgumentError(f"ParityStepOperator: op_kwargs must be a mapping, got {type(op_kwargs).__name__}")
        self.step = step
        self.op_kwargs = dict(op_kwargs or {})
        self._result: dict[str, Any] | None = None
        self._error: BaseException | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_provider_parity.operators.common import fail_fast
        from airflow_provider_parity.steps import run_step

        self._result = fail_fast(self, lambda: run_step(self.step, self.op_kwargs))
        return self._result

    def _lineage(self, error: BaseException | None = None) -> OperatorLineage[Any, Any]:
        from airflow_provider_parity import lineage
        from airflow_provider_parity.steps import lineage_datasets

        return lineage.operator_lineage(
            inputs=[lineage.input_dataset(uri, version=v) for uri, v in lineage_datasets(self._result, "inputs")],
            outputs=[lineage.output_dataset(uri, version=v) for uri, v in lineage_datasets(self._result, "outputs")],
            run_facets=lineage.error_facets(error),
        )

    def get_openlineage_facets_on_start(self) -> OperatorLineage[Any, Any]:
        return self._lineage()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        return self._lineage()

    def get_openlineage_facets_on_failure(self, task_instance: Any) -> OperatorLineage[Any, Any]:
        return self._lineage(self._error)


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
        **kwargs: BaseOperator arguments (retries, pool, callbacks, ...).

    Returns:
        A ``ParityStepOperator`` or a ``KubernetesPodOperator``.
    """
    chosen = mode or execution_mode()
    if chosen == "local":
        return ParityStepOperator(task_id=task_id, step=step, op_kwargs=op_kwargs, **kwargs)
    return _pod_step(task_id=task_id, step=step, op_kwargs=dict(op_kwargs or {}), pod_kwargs=dict(pod_kwargs or {}),
                     **kwargs)


def _pod_step(*, task_id: str, step: str, op_kwargs: dict[str, Any], pod_kwargs: dict[str, Any],
              **kwargs: Any) -> BaseOperator:
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
        "arguments": [step, f"--kwargs={json.dumps(op_kwargs, sort_keys=True)}", f"--xcom-file={POD_XCOM_FILE}"],
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
