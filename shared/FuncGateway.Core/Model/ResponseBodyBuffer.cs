namespace FuncGateway.Model;

/// <summary>Reads a response body into memory, up to a cap: the one place the gateway buffers a body.</summary>
internal static class ResponseBodyBuffer
{
    /// <summary>The body, or null when it is (or announces itself) larger than <paramref name="maxBytes"/>.</summary>
    public static async ValueTask<ReadOnlyMemory<byte>?> ReadAsync(HttpContent content, long maxBytes, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength is { } announced && announced > maxBytes)
        {
            return null;
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[(int)Math.Clamp(content.Headers.ContentLength ?? 4096, 1, maxBytes + 1)];
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > maxBytes)
                    {
                        return null;
                    }

                    Array.Resize(ref buffer, (int)Math.Min((long)buffer.Length * 2, maxBytes + 1));
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    return buffer.AsMemory(0, length);
                }

                length += read;
                if (length > maxBytes)
                {
                    return null;
                }
            }
        }
    }
}
