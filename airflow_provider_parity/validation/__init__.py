"""Validating data against its contract (no Airflow): the gate's engine and the serving check."""

from airflow_provider_parity.validation.native import check_batch
from airflow_provider_parity.validation.result import RuleResult, ValidationResult
from airflow_provider_parity.validation.validate import validate_table

__all__ = ["RuleResult", "ValidationResult", "check_batch", "validate_table"]
