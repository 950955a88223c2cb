using FuncGateway.Model;

namespace FuncGateway.Forwarding;

/// <summary>The route properties forwarding owns: what the upstream may see of the client's request.</summary>
public static class ForwardingProperties
{
    /// <summary>
    /// One method or URL override header (<c>X-HTTP-Method-Override</c>, <c>X-HTTP-Method</c>, <c>X-Method-Override</c>,
    /// <c>X-Original-URL</c>, <c>X-Rewrite-URL</c>) that the client may send to this route's upstream, in its canonical
    /// spelling. Null: all five are removed.
    /// </summary>
    public static RegistryProperty<string?> AllowOverrideHeader { get; } =
        RegistryProperties.Text(RegistryTable.Routes, "AllowOverrideHeader", CheckOverrideHeader);

    /// <summary>
    /// Forward protocol upgrade requests (WebSocket handshakes) to the upstream as tunnels. False: an upgrade request
    /// is refused with 400 <c>upgrade_not_allowed</c>.
    /// </summary>
    public static RegistryProperty<bool> WebSockets { get; } = RegistryProperties.Flag(RegistryTable.Routes, "WebSockets");

    /// <summary>Every forwarding property, in file order.</summary>
    public static IReadOnlyList<RegistryProperty> All { get; } = [AllowOverrideHeader, WebSockets];

    /// <summary>One of the override headers (any case), returned in its canonical spelling.</summary>
    private static string? CheckOverrideHeader(string name, List<string> errors)
    {
        if (UntrustedRequestHeaders.CanonicalOverrideHeader(name) is { } canonical)
        {
            return canonical;
        }

        errors.Add($"AllowOverrideHeader '{PrintableText.Of(name)}' is not one of {string.Join(", ", UntrustedRequestHeaders.OverrideHeaders)}.");
        return null;
    }
}
