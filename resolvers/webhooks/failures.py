"""What a failed webhook attempt records for the tenant to see: the kind of failure only.
An exception's text can name the address the host resolved to (each request goes to the
checked address) or library internals; the dispatcher logs it instead."""

import ssl

import httpx


def failure_message(exc: httpx.HTTPError, timeout: float) -> str:
    """The kind of failure, in words, without the exception's text."""
    if isinstance(exc, httpx.TimeoutException):
        return f"timed out after {timeout:g} s"
    if isinstance(exc, httpx.ConnectError):
        tls = _tls_failure(exc)
        if tls is not None:
            return f"could not connect: {tls}"
        return "could not connect"
    if isinstance(exc, httpx.RemoteProtocolError):
        return "the receiver did not answer with valid HTTP"
    if isinstance(exc, httpx.NetworkError):
        return "the connection failed while sending"
    return f"the request failed ({type(exc).__name__})"


def _tls_failure(exc: BaseException) -> str | None:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return "the TLS certificate was not accepted"
        if isinstance(cause, ssl.SSLError):
            return "the TLS handshake failed"
        cause = cause.__cause__ or cause.__context__
    return None
