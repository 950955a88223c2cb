using FuncGateway.Model;
using Microsoft.Extensions.Options;

namespace FuncGateway.Forwarding;

/// <summary>
/// The host names the gateway answers to (<c>FuncGateway:Forwarding:PublicHosts</c>). A request naming another host is
/// refused before routing, so no upstream builds links or redirects to a host a client made up; the host that matched
/// is the only one ever sent upstream as <c>X-Forwarded-Host</c>. Without a list every host is accepted and none is
/// vouched for.
/// </summary>
internal sealed class PublicHostPolicy
{
    public const string SettingKey = "FuncGateway:Forwarding:PublicHosts";

    private readonly HostPattern[] _patterns;

    public PublicHostPolicy(IOptions<GatewayOptions> options)
    {
        var errors = new List<string>();
        _patterns = Parse(options.Value.Forwarding.PublicHosts, errors);
        if (errors.Count > 0)
        {
            // The options validator has already stopped the host with these; a direct construction gets them too.
            throw new OptionsValidationException(SettingKey, typeof(ForwardingOptions), errors);
        }
    }

    /// <summary>False when no list is configured: every host is accepted and none is sent upstream.</summary>
    public bool IsConfigured => _patterns.Length > 0;

    /// <summary>Parses the setting; every bad entry is added to <paramref name="errors"/> under the setting's full key.</summary>
    public static HostPattern[] Parse(string? text, List<string> errors)
    {
        var patterns = new List<HostPattern>();
        foreach (var item in HostPattern.SplitList(text))
        {
            if (HostPattern.TryParse(item, out var pattern, out var error))
            {
                patterns.Add(pattern);
            }
            else
            {
                errors.Add($"{SettingKey}: {error}");
            }
        }

        return [.. patterns];
    }

    /// <summary>
    /// Whether the gateway serves a request for <paramref name="host"/> over <paramref name="scheme"/>, and the host it
    /// may vouch for upstream: the host itself when it matched the list, null when no list is configured.
    /// </summary>
    public bool TryAccept(string? host, string scheme, out string? vouchedHost)
    {
        vouchedHost = null;
        if (_patterns.Length == 0)
        {
            return true;
        }

        foreach (var pattern in _patterns)
        {
            if (pattern.Matches(host, scheme))
            {
                vouchedHost = host;
                return true;
            }
        }

        return false;
    }
}
