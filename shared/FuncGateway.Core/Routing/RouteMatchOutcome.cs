namespace FuncGateway.Routing;

internal enum RouteMatchOutcome
{
    Matched,
    NotFound,

    /// <summary>A route matched everything but the method: answer 405 with an <c>Allow</c> header.</summary>
    MethodNotAllowed,
}
