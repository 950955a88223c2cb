using System.ComponentModel.DataAnnotations;

namespace FuncGateway.Health;

/// <summary>Settings under <c>FuncGateway:Health</c>: reading the Health table and, in the server, probing.</summary>
public sealed class HealthOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "FuncGateway:Health";

    /// <summary>Seconds between two reads of the Health table on every gateway instance. A probe result reaches routing within this bound.</summary>
    [Range(0.1, 3600)]
    public double RefreshIntervalSeconds { get; set; } = 5;

    /// <summary>Whether <c>FuncGateway.Server</c> probes (one instance of the fleet at a time, by lease). The Functions app probes from its timer function instead.</summary>
    public bool ProbeEnabled { get; set; } = true;

    /// <summary>Seconds between two probe rounds of the server's prober; pools are probed when their own interval is due.</summary>
    [Range(0.1, 300)]
    public double ProbeTickSeconds { get; set; } = 5;

    /// <summary>Seconds the server prober's lease lasts without renewal; another instance takes over after it expires.</summary>
    [Range(1, 3600)]
    public double LeaseSeconds { get; set; } = 15;

    /// <summary>Probes in flight at once.</summary>
    [Range(1, 1024)]
    public int MaxParallelProbes { get; set; } = 32;
}
