using Microsoft.Extensions.Logging;

namespace FuncGateway.Authentication.Jwt;

/// <summary>Log lines of JWT policies (event ids 4040–4049, inside authentication's 4000–4999). Never a token or a claim value.</summary>
internal static partial class JwtLog
{
    /// <summary>
    /// The precise reason behind a refusal whose client-facing description stays generic ("malformed", "invalid",
    /// "lifetime is invalid"); the request's own 4000 line follows it.
    /// </summary>
    [LoggerMessage(4040, LogLevel.Information, "Policy '{Policy}' refused a token: {Reason}.")]
    public static partial void TokenRefused(ILogger logger, string policy, string reason);
}
