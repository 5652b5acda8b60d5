"""The REST API (SPEC section 8): FastAPI over the client and the PostgreSQL read model."""

from campaign_engine.api.app import API_PREFIX, ServeError, create_app, serve_api

__all__ = ["API_PREFIX", "ServeError", "create_app", "serve_api"]
