using FuncGateway.Model;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace FuncGateway.Composition;

/// <summary>
/// The request a part sends, as an <see cref="HttpContext"/> of its own that the forwarding path can take like a
/// client's: the part's method, path and query; the client's headers except those about a body, content
/// negotiation and the host (parts ask for <c>application/json</c>, uncompressed, and send no body); the caller's
/// authentication (<see cref="ISubrequestFeature"/>), so the route's transforms strip client-supplied identity
/// headers and add the gateway's own and the signed context. The answer lands in a bounded buffer, never in the
/// client's response.
/// </summary>
internal static class PartRequest
{
    // Said of the client's own request: a part has no body, its own negotiation and its upstream's host.
    private static readonly HashSet<string> NotCopied = new(StringComparer.OrdinalIgnoreCase)
    {
        HeaderNames.ContentLength, HeaderNames.ContentType, HeaderNames.ContentEncoding, HeaderNames.ContentLanguage,
        HeaderNames.ContentMD5, HeaderNames.ContentRange, HeaderNames.TransferEncoding, HeaderNames.Expect, HeaderNames.Host,
        HeaderNames.Accept, HeaderNames.AcceptEncoding, HeaderNames.Range, HeaderNames.IfMatch, HeaderNames.IfNoneMatch,
        HeaderNames.IfModifiedSince, HeaderNames.IfUnmodifiedSince, HeaderNames.IfRange,
    };

    public static HttpContext Create(HttpContext client, GatewayRequestFeature clientFeature, CompiledRoute route, string method, string pathAndQuery, Stream body, CancellationToken aborted)
    {
        var features = new FeatureCollection();
        foreach (var (type, instance) in client.Features)
        {
            if (instance is ISubrequestFeature)
            {
                features[type] = instance;
            }
        }

        var query = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        var request = new HttpRequestFeature
        {
            Protocol = "HTTP/1.1",
            Scheme = client.Request.Scheme,
            Method = method,
            PathBase = "",
            Path = PathString.FromUriComponent(query < 0 ? pathAndQuery : pathAndQuery[..query]).Value ?? "/",
            RawTarget = pathAndQuery,
            QueryString = query < 0 ? "" : pathAndQuery[query..],
            Body = Stream.Null,
        };
        foreach (var (name, values) in client.Request.Headers)
        {
            if (!NotCopied.Contains(name))
            {
                request.Headers[name] = values;
            }
        }

        request.Headers.Accept = "application/json";
        features.Set<IHttpRequestFeature>(request);
        features.Set<IHttpRequestBodyDetectionFeature>(NoBody.Instance);
        features.Set<IHttpResponseFeature>(new HttpResponseFeature());
        features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(body));
        features.Set<IHttpRequestLifetimeFeature>(new HttpRequestLifetimeFeature { RequestAborted = aborted });
        if (client.Features.Get<IHttpConnectionFeature>() is { } connection)
        {
            features.Set(connection);
        }

        if (client.Features.Get<IServiceProvidersFeature>() is { } services)
        {
            features.Set(services);
        }

        var context = new DefaultHttpContext(features) { TraceIdentifier = client.TraceIdentifier };
        features.Set(new GatewayRequestFeature(route, clientFeature.RouteValues)
        {
            ClientAddress = clientFeature.ClientAddress,
            ClientScheme = clientFeature.ClientScheme,
            PublicHost = clientFeature.PublicHost,
            Identity = clientFeature.Identity,
            AuthPolicy = clientFeature.AuthPolicy,
            AuthOutcome = clientFeature.AuthOutcome,
            UnrecordedTrace = clientFeature.UnrecordedTrace,
        });
        return context;
    }

    private sealed class NoBody : IHttpRequestBodyDetectionFeature
    {
        public static readonly NoBody Instance = new();

        public bool CanHaveBody => false;
    }
}

/// <summary>
/// A part's answer, kept in memory up to a limit and within the request's <see cref="CompositionBudget"/>; a write past
/// either fails the copy and marks the part too large.
/// </summary>
internal sealed class PartBuffer(long limit, CompositionBudget budget) : MemoryStream
{
    private long _reserved;

    public bool Exceeded { get; private set; }

    public override void Write(byte[] buffer, int offset, int count)
    {
        Reserve(count);
        base.Write(buffer, offset, count);
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        Reserve(buffer.Length);
        base.Write(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        Reserve(count);
        return base.WriteAsync(buffer, offset, count, cancellationToken);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Reserve(buffer.Length);
        return base.WriteAsync(buffer, cancellationToken);
    }

    public override void WriteByte(byte value)
    {
        Reserve(1);
        base.WriteByte(value);
    }

    private void Reserve(int count)
    {
        if (Length + count > limit)
        {
            Exceeded = true;
            throw new IOException($"The part's answer is larger than {limit} bytes.");
        }

        // Only what the answer grows by: an asynchronous write reaches the synchronous one too, and must count once.
        var growth = Length + count - _reserved;
        if (growth > 0)
        {
            if (!budget.TryReserve(growth))
            {
                Exceeded = true;
                throw new IOException($"The parts' answers together are larger than {budget.Limit} bytes.");
            }

            _reserved += growth;
        }
    }
}

/// <summary>
/// What one composed request may hold of its parts' answers together (<c>MaxComposedResponseBytes</c>), shared by its
/// parts, which write concurrently. Once over, the request is answered 502 <c>composition_too_large</c>.
/// </summary>
internal sealed class CompositionBudget(long limit)
{
    private long _used;
    private volatile bool _exceeded;

    public long Limit => limit;

    public bool Exceeded => _exceeded;

    public bool TryReserve(long count)
    {
        if (Interlocked.Add(ref _used, count) <= limit)
        {
            return true;
        }

        _exceeded = true;
        return false;
    }
}

/// <summary>
/// The composed body as it is written, up to a limit: a write past it throws <see cref="IOException"/> (and
/// <see cref="Exceeded"/> says why), so a body many times its parts' size is never held whole.
/// </summary>
internal sealed class BoundedBufferWriter(long limit) : System.Buffers.IBufferWriter<byte>
{
    private readonly System.Buffers.ArrayBufferWriter<byte> _inner = new();

    public bool Exceeded { get; private set; }

    public int WrittenCount => _inner.WrittenCount;

    public ReadOnlyMemory<byte> WrittenMemory => _inner.WrittenMemory;

    public void Advance(int count)
    {
        if (_inner.WrittenCount + (long)count > limit)
        {
            Exceeded = true;
            throw new IOException($"The composed body is larger than {limit} bytes.");
        }

        _inner.Advance(count);
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => _inner.GetMemory(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => _inner.GetSpan(sizeHint);
}
