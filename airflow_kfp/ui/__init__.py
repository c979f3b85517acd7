"""Experiments UI (issue 12): an Airflow plugin with a JSON API and pages inside Airflow's UI."""
