using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace FuncGateway.Server.Framing;

/// <summary>
/// The request head limits the connection guard answers itself (as problem+json, through the core) instead of leaving
/// them to Kestrel, whose 414 and 431 have an empty body: the configured <c>Kestrel:Limits</c> values. Kestrel's own
/// limits are raised by a few bytes above them, so that the head the guard ends at the limit (with its violation
/// header) still fits; what a connection may make Kestrel hold stays bounded, a few bytes over the configured limits.
/// </summary>
/// <param name="RequestLineBytes">The longest request line, its CRLF included (<c>MaxRequestLineSize</c>).</param>
/// <param name="HeaderBytes">The most bytes of header lines, CRLFs included (<c>MaxRequestHeadersTotalSize</c>).</param>
/// <param name="HeaderCount">The most header lines (<c>MaxRequestHeaderCount</c>).</param>
internal sealed record Http1HeadLimits(int RequestLineBytes, int HeaderBytes, int HeaderCount)
{
    /// <summary>What the guard adds to a request line cut at the limit (" HTTP/1.0" and its CRLF), with room to spare.</summary>
    internal const int RequestLineMargin = 64;

    /// <summary>What the guard adds to a header section cut at the limit (the end of a line, Host, the violation), with room to spare.</summary>
    internal const int HeaderBytesMargin = 256;

    /// <summary>The header lines the guard may add: Host and the violation.</summary>
    internal const int HeaderCountMargin = 2;

    /// <summary>Takes the configured limits for the guard and raises Kestrel's by the margins. Call once.</summary>
    public static Http1HeadLimits TakeFrom(KestrelServerLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var guard = new Http1HeadLimits(limits.MaxRequestLineSize, limits.MaxRequestHeadersTotalSize, limits.MaxRequestHeaderCount);
        limits.MaxRequestLineSize = Raise(limits.MaxRequestLineSize, RequestLineMargin);
        limits.MaxRequestHeadersTotalSize = Raise(limits.MaxRequestHeadersTotalSize, HeaderBytesMargin);
        limits.MaxRequestHeaderCount = Raise(limits.MaxRequestHeaderCount, HeaderCountMargin);
        return guard;
    }

    private static int Raise(int limit, int margin) => limit > int.MaxValue - margin ? int.MaxValue : limit + margin;
}
