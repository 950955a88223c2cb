using System.Buffers;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace FuncGateway.Model;

/// <summary>Why <see cref="RequestBodyReader"/> returned no body.</summary>
internal enum RequestBodyFailure
{
    /// <summary>The body was read.</summary>
    None,

    /// <summary>The body is (or announced itself) over the limit: 413 <c>request_too_large</c>.</summary>
    TooLarge,

    /// <summary>The server could not read the body from the client (a malformed chunk): 400 <c>bad_request</c>.</summary>
    Unreadable,

    /// <summary>The client sent the body slower than the server's minimum request body data rate: 408 <c>request_timeout</c>.</summary>
    TooSlow,
}

/// <summary>
/// Reads a client's request body into one pooled buffer, up to a limit: the one place the gateway buffers a request
/// body (request validation, request body transforms). The buffer goes back to the pool when the response has
/// completed, so the body can be forwarded from it until then; the result is also kept on the request's
/// <see cref="GatewayRequestFeature.BufferedRequestBody"/>, so a later step reads it from memory, not again.
/// </summary>
internal static class RequestBodyReader
{
    /// <summary>What a route buffers without its own limit: 1 MiB (or the global body limit when lower).</summary>
    public const long DefaultBufferedBodyBytes = 1024 * 1024;

    /// <summary>
    /// The body, or why there is none: a body over <paramref name="limit"/> (answer 413), or one the server could not
    /// read (answer 400). A body an earlier step buffered is returned as it is.
    /// </summary>
    public static async Task<(ReadOnlyMemory<byte> Body, RequestBodyFailure Failure)> ReadAsync(HttpContext context, GatewayRequestFeature feature, long limit)
    {
        if (feature.BufferedRequestBody is { } buffered)
        {
            return buffered.Length > limit ? (default, RequestBodyFailure.TooLarge) : (buffered, RequestBodyFailure.None);
        }

        var request = context.Request;
        if (request.ContentLength > limit)
        {
            return (default, RequestBodyFailure.TooLarge);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            // One byte over the limit is what tells an oversized chunked body apart; the server cuts anything beyond.
            sizeFeature.MaxRequestBodySize = limit + 1;
        }

        var pooled = new PooledBuffer((int)Math.Max(1, Math.Min(request.ContentLength ?? 16 * 1024, limit + 1)));
        context.Response.RegisterForDispose(pooled);
        var capacity = (int)Math.Min(pooled.Array.Length, limit + 1);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == capacity)
                {
                    if (length > limit)
                    {
                        return (default, RequestBodyFailure.TooLarge);
                    }

                    capacity = pooled.Grow(length, (int)Math.Min(limit + 1, capacity * 2L));
                }

                var read = await request.Body.ReadAsync(pooled.Array.AsMemory(length, capacity - length), context.RequestAborted);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (default, RequestBodyFailure.TooLarge);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status408RequestTimeout)
        {
            return (default, RequestBodyFailure.TooSlow);
        }
        catch (BadHttpRequestException)
        {
            return (default, RequestBodyFailure.Unreadable);
        }

        if (length > limit)
        {
            return (default, RequestBodyFailure.TooLarge);
        }

        var body = pooled.Array.AsMemory(0, length);
        feature.BufferedRequestBody = body;
        return (body, RequestBodyFailure.None);
    }

    /// <summary>True when the request may carry a body (the server's own judgement where it gives one).</summary>
    public static bool HasBody(HttpContext context) =>
        context.Features.Get<IHttpRequestBodyDetectionFeature>() is { } detection
            ? detection.CanHaveBody
            : context.Request.ContentLength > 0 || context.Request.Headers.ContainsKey(Microsoft.Net.Http.Headers.HeaderNames.TransferEncoding);

    /// <summary>
    /// Forwards <paramref name="body"/> instead of the client's stream, with its exact <c>Content-Length</c> (the
    /// client's request keeps its other headers).
    /// </summary>
    public static void ReplaceBody(HttpRequest request, ReadOnlyMemory<byte> body)
    {
        request.Body = System.Runtime.InteropServices.MemoryMarshal.TryGetArray(body, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(body.ToArray(), writable: false);
        request.ContentLength = body.Length;
        request.Headers.Remove(Microsoft.Net.Http.Headers.HeaderNames.TransferEncoding);
    }

    /// <summary>A request body's buffer, rented from the shared pool and returned once, when the response completes.</summary>
    private sealed class PooledBuffer(int size) : IDisposable
    {
        public byte[] Array { get; private set; } = ArrayPool<byte>.Shared.Rent(size);

        /// <summary>Moves the first <paramref name="used"/> bytes to a larger array; returns the capacity to use.</summary>
        public int Grow(int used, int size)
        {
            var larger = ArrayPool<byte>.Shared.Rent(size);
            Array.AsSpan(0, used).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(Array);
            Array = larger;
            return Math.Min(larger.Length, size);
        }

        public void Dispose()
        {
            if (Array.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(Array);
                Array = [];
            }
        }
    }
}
