namespace FuncGateway.Versioning;

/// <summary>Stable <c>code</c> values of API versioning's problem responses (both 400, with a <c>supportedVersions</c> member).</summary>
public static class VersioningProblems
{
    /// <summary>400: the request names a version no route of the path serves; <c>requestedVersion</c> says which.</summary>
    public const string Unsupported = "unsupported_api_version";

    /// <summary>400: the request names no version and its version set has no <c>Default</c>.</summary>
    public const string Required = "api_version_required";
}
