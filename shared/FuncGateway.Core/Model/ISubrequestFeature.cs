namespace FuncGateway.Model;

/// <summary>
/// Marks a per-request feature (on <c>HttpContext.Features</c>) that the gateway's own requests made on the
/// request's behalf (a composition's parts) carry too: what authentication established about the caller, so each
/// part gets the same identity headers and signed context as a forwarded request would.
/// </summary>
internal interface ISubrequestFeature;
