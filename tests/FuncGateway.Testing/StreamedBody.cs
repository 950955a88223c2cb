using System.Net;
using System.Security.Cryptography;

namespace FuncGateway.Testing;

/// <summary>
/// Bodies that prove streaming: each side waits for the far side's first bytes before sending the rest, so a
/// proxy on the way that buffered whole bodies would deadlock the test instead of passing it.
/// </summary>
public static class StreamedBody
{
    /// <summary>How long a gated side waits for the far side's first bytes.</summary>
    public static readonly TimeSpan FirstBytesDeadline = TimeSpan.FromSeconds(30);

    /// <summary>Reads a body to its end: its length and its upper-case hex SHA-256. <paramref name="onBytes"/> runs after every read.</summary>
    public static async Task<(long Length, string Sha256)> ReadAllAsync(Stream body, Action? onBytes = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += read;
            hash.AppendData(buffer, 0, read);
            onBytes?.Invoke();
        }

        return (total, Convert.ToHexString(hash.GetHashAndReset()));
    }

    /// <summary>Writes <paramref name="chunks"/> chunks of <paramref name="chunkSize"/> bytes, waiting for <paramref name="gate"/> after the first.</summary>
    public static async Task WriteGatedAsync(Stream body, int chunkSize, int chunks, Task gate, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(gate);
        var bytes = new byte[chunkSize];
        for (var i = 0; i < chunks; i++)
        {
            await body.WriteAsync(bytes, cancellationToken);
            if (i == 0)
            {
                await body.FlushAsync(cancellationToken);
                await gate.WaitAsync(FirstBytesDeadline, cancellationToken);
            }
        }
    }
}

/// <summary>A request body that sends its first chunk, waits until the far side has seen bytes, then sends the rest.</summary>
public sealed class GatedContent(int chunkSize, int chunks, Task gate) : HttpContent
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    /// <summary>The upper-case hex SHA-256 of what was sent, once it is sent.</summary>
    public string Sha256 { get; private set; } = "";

    public long Length => (long)chunkSize * chunks;

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        var chunk = new byte[chunkSize];
        for (var i = 0; i < chunks; i++)
        {
            chunk.AsSpan().Fill((byte)i);
            _hash.AppendData(chunk);
            await stream.WriteAsync(chunk);
            if (i == 0)
            {
                await stream.FlushAsync();
                await gate.WaitAsync(StreamedBody.FirstBytesDeadline);
            }
        }

        Sha256 = Convert.ToHexString(_hash.GetHashAndReset());
    }

    protected override bool TryComputeLength(out long length)
    {
        length = Length;
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        _hash.Dispose();
        base.Dispose(disposing);
    }
}
