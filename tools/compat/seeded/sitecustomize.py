"""Put first on ``PYTHONPATH`` by ``scan --run`` only: every Python process (each kfp.local task, each
airflow-kfp component) starts with the same ``random`` state, so KFP's coin-flip samples draw the same
values under both runtimes and their outputs and branches can be compared."""

import random

random.seed(14)
