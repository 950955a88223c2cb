namespace FuncGateway.Composition;

/// <summary>How one part of a composition ended: its answer (status and parsed body), or why it failed.</summary>
internal sealed record PartResult(int Status, object? Body, string? Reason, int Attempts = 0, TimeSpan UpstreamTime = default)
{
    /// <summary>The reasons a part fails, as documented (docs/aggregation.md).</summary>
    public const string Timeout = "timeout";
    public const string Unreachable = "unreachable";
    public const string NoInstance = "no_instance";
    public const string BadStatus = "status";
    public const string TooLarge = "too_large";
    public const string MissingValue = "missing_value";
    public const string BadValue = "bad_value";
    public const string DependencyFailed = "dependency_failed";
    public const string Canceled = "canceled";
    public const string Error = "error";

    /// <summary>The part answered with a 2xx status.</summary>
    public bool Succeeded => Reason is null;

    public static PartResult Failed(string reason, int status = 0) => new(status, null, reason);
}
