namespace FuncGateway.Caching;

/// <summary>
/// The client's response body stream with a copy kept on the side, up to a cap: past it the copy is dropped and the
/// rest streams through untouched, so a large body is never buffered.
/// </summary>
internal sealed class CacheCaptureStream(Stream inner, long maxBytes) : Stream
{
    private MemoryStream? _copy = new();

    /// <summary>True once the body passed the cap: nothing is kept.</summary>
    public bool Overflowed => _copy is null;

    public byte[] ToArray() => _copy?.ToArray() ?? [];

    public long CopiedBytes => _copy?.Length ?? -1;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count)
    {
        inner.Write(buffer, offset, count);
        Keep(buffer.AsSpan(offset, count));
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await inner.WriteAsync(buffer, cancellationToken);
        Keep(buffer.Span);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    private void Keep(ReadOnlySpan<byte> data)
    {
        if (_copy is null)
        {
            return;
        }

        if (_copy.Length + data.Length > maxBytes)
        {
            _copy = null;
            return;
        }

        _copy.Write(data);
    }
}
