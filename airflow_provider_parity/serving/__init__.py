"""The online path (no Airflow): an online store materialised from a pinned Delta version, and ``parity serve``."""
