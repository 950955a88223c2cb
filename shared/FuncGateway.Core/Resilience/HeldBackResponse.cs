using System.Net.Http.Headers;
using FuncGateway.Model;

namespace FuncGateway.Resilience;

/// <summary>
/// A retryable 5xx kept from the client while the request is tried on another instance: the upstream's status,
/// headers and body (up to <see cref="MaxBodyBytes"/>, in memory). When no other instance gives an answer, this is the
/// answer the client gets, as if it had been passed on at once; a gateway-made 502 would hide the upstream's own
/// status, body and <c>Retry-After</c>. Only requests whose 5xx is held back pay for it.
/// </summary>
internal sealed class HeldBackResponse
{
    /// <summary>Largest body kept; a retryable 5xx with a larger body is still retried, but cannot be the answer.</summary>
    public const int MaxBodyBytes = 64 * 1024;

    private readonly HttpResponseMessage _response;
    private readonly KeyValuePair<string, IEnumerable<string>>[] _contentHeaders;
    private readonly ReadOnlyMemory<byte> _body;

    private HeldBackResponse(UpstreamInstance instance, HttpResponseMessage response, HttpContentHeaders contentHeaders, ReadOnlyMemory<byte> body)
    {
        Instance = instance;
        _response = response;
        _contentHeaders = [.. contentHeaders];
        _body = body;
    }

    /// <summary>The instance that answered.</summary>
    public UpstreamInstance Instance { get; }

    public int Status => (int)_response.StatusCode;

    /// <summary>Reads <paramref name="response"/>'s body into memory (<see cref="ResponseBodyBuffer"/>); null when it is larger than <see cref="MaxBodyBytes"/>.</summary>
    public static async ValueTask<HeldBackResponse?> TryKeepAsync(UpstreamInstance instance, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var content = response.Content;
        if (await ResponseBodyBuffer.ReadAsync(content, MaxBodyBytes, cancellationToken) is not { } body)
        {
            return null;
        }

        var copy = new HttpResponseMessage(response.StatusCode) { Version = response.Version, ReasonPhrase = response.ReasonPhrase };
        foreach (var header in response.Headers)
        {
            copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return new HeldBackResponse(instance, copy, content.Headers, body);
    }

    /// <summary>The response to pass on, with a fresh copy of the body (whoever passes it on disposes it).</summary>
    public HttpResponseMessage Take()
    {
        _response.Content = WithHeaders(new ReadOnlyMemoryContent(_body), _contentHeaders);
        return _response;
    }

    private static HttpContent WithHeaders(HttpContent content, IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers)
    {
        foreach (var header in headers)
        {
            content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }

        return content;
    }
}
