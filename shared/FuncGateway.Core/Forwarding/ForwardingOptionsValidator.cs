using FuncGateway.Model;
using Microsoft.Extensions.Options;

namespace FuncGateway.Forwarding;

/// <summary>
/// Checks the list settings of <c>FuncGateway:Forwarding</c> at start-up (<c>PublicHosts</c>, <c>AllowedUpstreams</c>):
/// every bad entry is reported at once, under the setting's full key.
/// </summary>
internal sealed class ForwardingOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        PublicHostPolicy.Parse(options.Forwarding.PublicHosts, errors);
        UpstreamAllowlist.Parse(options.Forwarding.AllowedUpstreams, errors);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
