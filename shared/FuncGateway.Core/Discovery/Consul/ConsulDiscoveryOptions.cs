using System.ComponentModel.DataAnnotations;

namespace FuncGateway.Discovery.Consul;

/// <summary>How the gateway reaches Consul (<c>FuncGateway:Discovery:Consul</c>), for every pool whose discovery source is <c>consul</c>.</summary>
public sealed class ConsulDiscoveryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "FuncGateway:Discovery:Consul";

    /// <summary>The Consul agent's HTTP API, an absolute http(s) URL. Default <c>http://127.0.0.1:8500</c> (the local agent).</summary>
    [Required]
    public string Address { get; set; } = "http://127.0.0.1:8500";

    /// <summary>The ACL token sent as <c>X-Consul-Token</c>; none when empty. A Key Vault reference in Azure. Never logged.</summary>
    public string? Token { get; set; }

    /// <summary>How long one blocking query may wait for a change, in seconds (1–600, default 30).</summary>
    [Range(1, 600)]
    public int WaitSeconds { get; set; } = 30;
}
