"""Bearer token on mutations (SPEC section 8): required on POST and PATCH when API_TOKEN is
set; reads stay open."""

from http import HTTPStatus
from secrets import compare_digest
from typing import Annotated, Any

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from campaign_engine.api.schemas import ErrorOut
from campaign_engine.api.services import ServicesDep

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="API_TOKEN",
    description="`Authorization: Bearer <API_TOKEN>`, required on POST and PATCH when the "
    "server has API_TOKEN set",
)


async def require_token(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    token = services.settings.bearer_token
    if not token:
        return
    if credentials is None:
        raise HTTPException(
            HTTPStatus.UNAUTHORIZED,
            "missing bearer token: send Authorization: Bearer <API_TOKEN>",
            headers={"WWW-Authenticate": "Bearer"},
        )
    # Constant-time: how much of a guess matched must not show in the response time.
    if not compare_digest(credentials.credentials.encode(), token.encode()):
        raise HTTPException(
            HTTPStatus.UNAUTHORIZED,
            "invalid bearer token",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


Authorized = [Depends(require_token)]
UNAUTHORIZED: dict[int | str, dict[str, Any]] = {
    HTTPStatus.UNAUTHORIZED.value: {
        "model": ErrorOut,
        "description": "API_TOKEN is set and the bearer token is missing or wrong",
    }
}
