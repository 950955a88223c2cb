namespace FuncGateway.Discovery;

/// <summary>
/// What a discovery source may also say about itself, for the admin surface: the outage it is riding out. Optional:
/// a source that does not implement it shows no error.
/// </summary>
public interface IDiscoverySourceStatus
{
    /// <summary>Why the last attempt to reach the backing service failed; null once it succeeds again.</summary>
    string? LastError { get; }

    /// <summary>When that attempt failed.</summary>
    DateTimeOffset? LastErrorAt { get; }
}
