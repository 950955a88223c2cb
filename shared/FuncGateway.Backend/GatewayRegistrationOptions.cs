namespace FuncGateway.Backend;

/// <summary>How an ASP.NET Core upstream registers itself with FuncGateway (see <c>AddGatewayRegistration</c>).</summary>
public sealed class GatewayRegistrationOptions
{
    /// <summary>The gateway's base URL, e.g. <c>https://gw.contoso.com</c>; the admin API is under <c>/_gateway/</c>.</summary>
    public Uri? GatewayUrl { get; set; }

    /// <summary>
    /// The key sent in <c>X-Admin-Key</c>: preferably a registration key of the gateway that lists <see cref="Pool"/>
    /// (<c>FuncGateway:Discovery:Registration:Keys:&lt;name&gt;:Key</c>, good for registering into its pools and
    /// nothing else), or the gateway's admin key (<c>FuncGateway:Admin:Key</c>).
    /// </summary>
    public string? AdminKey { get; set; }

    /// <summary>The pool to join: a pool whose <c>Discovery</c> is <c>{"Source":"registration"}</c>.</summary>
    public string? Pool { get; set; }

    /// <summary>
    /// The URL the gateway should forward to. Default: the address the server listens on, when it is not a wildcard
    /// (<c>0.0.0.0</c>, <c>[::]</c>, <c>+</c>, <c>*</c>).
    /// </summary>
    public Uri? InstanceUrl { get; set; }

    /// <summary>This instance's id in the pool (letters, digits, <c>-_.:</c>). Default: the machine name and the port.</summary>
    public string? InstanceId { get; set; }

    /// <summary>The instance's relative weight, 1–1000.</summary>
    public int Weight { get; set; } = 1;

    /// <summary>How long a registration lasts without renewal (5–3600 s by default on the gateway); renewed every third of it.</summary>
    public int LeaseSeconds { get; set; } = 30;

    /// <summary>How long deregistering at shutdown may take before the host stops anyway.</summary>
    public TimeSpan DeregisterTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
