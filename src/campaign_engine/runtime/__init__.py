"""What every process of the engine runs on: its settings from the environment, the policy
file, logging and metrics, the backoff every loop retries with, the lifecycle of a loop that
runs beside its owner, and child processes that never outlive the process that started them."""
