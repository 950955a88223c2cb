using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Features;

namespace FuncGateway.Samples.Echo;

/// <summary>
/// Answers any request with an <see cref="EchoResponse"/> describing what arrived. Used by the sample upstream and,
/// compiled from this same file, by the test upstreams in FuncGateway.Testing.
/// </summary>
public static class EchoHandler
{
    /// <summary>How many leading body bytes are echoed back as text; the hash and length always cover the whole body.</summary>
    public const int MaxEchoedBodyBytes = 64 * 1024;

    /// <summary>Response header carrying the instance name, so callers can tell instances apart without parsing JSON.</summary>
    public const string InstanceHeaderName = "X-Echo-Instance";

    private const int ReadBufferBytes = 64 * 1024;

    /// <summary>Reads the request body as a stream (never buffering it whole) and writes the echo as JSON.</summary>
    public static async Task HandleAsync(HttpContext context, string instanceName)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(instanceName);

        var request = context.Request;
        var (path, query) = RawPathAndQuery(context);
        var body = await ReadBodyAsync(request.Body, context.RequestAborted);

        var echo = new EchoResponse(
            instanceName,
            request.Method,
            path,
            query,
            CopyHeaders(request.Headers),
            body.Length,
            body.Sha256,
            body.Text);

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers[InstanceHeaderName] = instanceName;
        await context.Response.WriteAsJsonAsync(echo, EchoJsonContext.Default.EchoResponse, contentType: null, context.RequestAborted);
    }

    // The raw target keeps percent-encoding exactly as the client (or the gateway) sent it; Request.Path is decoded.
    private static (string Path, string Query) RawPathAndQuery(HttpContext context)
    {
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (!string.IsNullOrEmpty(rawTarget) && rawTarget[0] == '/')
        {
            var queryStart = rawTarget.IndexOf('?', StringComparison.Ordinal);
            return queryStart < 0 ? (rawTarget, string.Empty) : (rawTarget[..queryStart], rawTarget[queryStart..]);
        }

        var request = context.Request;
        return ((request.PathBase + request.Path).ToUriComponent(), request.QueryString.Value ?? string.Empty);
    }

    private static Dictionary<string, string[]> CopyHeaders(IHeaderDictionary headers)
    {
        var copy = new Dictionary<string, string[]>(headers.Count, StringComparer.Ordinal);
        foreach (var (name, values) in headers)
        {
            copy[name.ToLowerInvariant()] = values.ToArray()!;
        }

        return copy;
    }

    private static async Task<BodySummary> ReadBodyAsync(Stream body, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(ReadBufferBytes);
        var prefix = ArrayPool<byte>.Shared.Rent(MaxEchoedBodyBytes);
        try
        {
            long length = 0;
            var prefixLength = 0;
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, ReadBufferBytes), cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);
                var keep = Math.Min(read, MaxEchoedBodyBytes - prefixLength);
                if (keep > 0)
                {
                    buffer.AsSpan(0, keep).CopyTo(prefix.AsSpan(prefixLength));
                    prefixLength += keep;
                }

                length += read;
            }

            return new BodySummary(
                length,
                Convert.ToHexStringLower(hash.GetHashAndReset()),
                Encoding.UTF8.GetString(prefix, 0, prefixLength));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<byte>.Shared.Return(prefix);
        }
    }

    private readonly record struct BodySummary(long Length, string Sha256, string Text);
}

/// <summary>Source-generated serialiser for <see cref="EchoResponse"/> (camelCase, as the web defaults).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(EchoResponse))]
internal sealed partial class EchoJsonContext : JsonSerializerContext;
