using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace FuncGateway.Model;

/// <summary>
/// Loop detection after RFC 8586 (<c>CDN-Loop</c>): every request the gateway forwards carries the client's
/// <c>CDN-Loop</c> list with <see cref="Id"/> appended, and a request whose list already names the gateway
/// <see cref="MaxHops"/> times is refused with <c>508 loop_detected</c> before anything else is done for it. Without
/// it, a route or a discovered instance that leads back to the gateway (its own address registered into a pool, a DNS
/// name that resolves to it, a route's upstream set to its public host) made every request re-enter the gateway until
/// connections or timeouts ran out: one client request held a chain of requests and connections. Chains that pass the
/// gateway a few times on purpose (gateway → service → gateway) stay well under the limit.
/// </summary>
internal static class ForwardingLoop
{
    /// <summary>The request header (RFC 8586).</summary>
    public const string HeaderName = "CDN-Loop";

    /// <summary>The gateway's <c>cdn-id</c> (a pseudonym, RFC 8586 §2).</summary>
    public const string Id = "FuncGateway";

    /// <summary>How many times a request may already have passed through a FuncGateway.</summary>
    public const int MaxHops = 10;

    /// <summary>True when the request has passed through a FuncGateway <see cref="MaxHops"/> times already.</summary>
    public static bool IsLooping(HttpRequest request) =>
        request.Headers.TryGetValue(HeaderName, out var values) && CountOwn(values) >= MaxHops;

    /// <summary>How many elements of the <c>CDN-Loop</c> field(s) name <see cref="Id"/> (case-insensitively, parameters ignored).</summary>
    public static int CountOwn(StringValues values)
    {
        var count = 0;
        foreach (var value in values)
        {
            var text = value.AsSpan();
            foreach (var range in text.Split(','))
            {
                var element = text[range];
                var parameters = element.IndexOf(';');
                if (parameters >= 0)
                {
                    element = element[..parameters];
                }

                if (element.Trim(" \t").Equals(Id, StringComparison.OrdinalIgnoreCase))
                {
                    count++;
                }
            }
        }

        return count;
    }
}
