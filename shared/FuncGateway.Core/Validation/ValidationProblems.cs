namespace FuncGateway.Validation;

/// <summary>Stable <c>code</c> values of request validation's problem responses (413 is the gateway's <c>request_too_large</c>).</summary>
public static class ValidationProblems
{
    /// <summary>400: the request breaks one or more of the route's rules; <c>violations</c> lists them.</summary>
    public const string ValidationFailed = "validation_failed";

    /// <summary>415: the body's media type is not one the route accepts.</summary>
    public const string UnsupportedMediaType = "unsupported_media_type";
}
