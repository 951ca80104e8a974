"""Transformations the pipelines run (dbt), with their tests as gates. No Airflow here."""
