"""Temporal at the edge: the one way to connect, the data converter, the workflow sandbox, the
orchestrator's and operator's client, and the messages that cross between them. No database,
no broker: what is here is shared by the worker, the API, the CLI and the tests alike."""
