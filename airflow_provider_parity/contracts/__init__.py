"""Data contracts (no Airflow, no data library): model, loader, rules, diff and compilers."""

from airflow_provider_parity.contracts.loader import contract_from_text, load_contract
from airflow_provider_parity.contracts.model import Column, Contract
from airflow_provider_parity.contracts.rules import Rule, compile_rules

__all__ = ["Column", "Contract", "Rule", "compile_rules", "contract_from_text", "load_contract"]
