using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace FuncGateway.Server.Tests.Infrastructure;

/// <summary>Reads HTTP/1.1 messages off a stream byte-exactly: heads, fixed and chunked bodies, and what is left.</summary>
internal sealed class HttpByteReader(Stream stream)
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private readonly MemoryStream _received = new();

    /// <summary>Every byte read from the stream so far, in order (safe to call while another thread reads).</summary>
    public byte[] Received()
    {
        lock (_received)
        {
            return _received.ToArray();
        }
    }

    /// <summary>The next head (up to and without the empty line), or null when the stream ends first.</summary>
    public async Task<string?> ReadHeadAsync(CancellationToken cancellationToken)
    {
        var head = new StringBuilder();
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken);
            if (line is null)
            {
                return head.Length == 0 ? null : throw new EndOfStreamException("The stream ended inside a head: " + head);
            }

            if (line.Length == 0)
            {
                return head.ToString();
            }

            head.Append(line).Append('\n');
        }
    }

    public async Task<byte[]> ReadExactlyAsync(long count, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            if (_start == _end && !await FillAsync(cancellationToken))
            {
                throw new EndOfStreamException($"The stream ended after {filled} of {count} bytes.");
            }

            var take = (int)Math.Min(count - filled, _end - _start);
            _buffer.AsSpan(_start, take).CopyTo(result.AsSpan(filled));
            _start += take;
            filled += take;
        }

        return result;
    }

    /// <summary>A chunked body, decoded (trailers skipped).</summary>
    public async Task<byte[]> ReadChunkedAsync(CancellationToken cancellationToken)
    {
        var body = new MemoryStream();
        while (true)
        {
            var sizeLine = await ReadLineAsync(cancellationToken) ?? throw new EndOfStreamException("The stream ended inside a chunked body.");
            var size = Convert.ToInt64(sizeLine.Split(';')[0].Trim(), 16);
            if (size == 0)
            {
                while ((await ReadLineAsync(cancellationToken))?.Length > 0)
                {
                }

                return body.ToArray();
            }

            body.Write(await ReadExactlyAsync(size, cancellationToken));
            await ReadLineAsync(cancellationToken);
        }
    }

    /// <summary>Everything until the peer closes.</summary>
    public async Task<byte[]> ReadToEndAsync(CancellationToken cancellationToken)
    {
        var body = new MemoryStream();
        do
        {
            body.Write(_buffer, _start, _end - _start);
            _start = _end;
        }
        while (await FillAsync(cancellationToken));

        return body.ToArray();
    }

    /// <summary>True when the peer closes (or resets) the connection before <paramref name="cancellationToken"/> fires; bytes that arrive meanwhile are kept.</summary>
    public async Task<bool> WaitForCloseAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await FillAsync(cancellationToken))
            {
                _start = _end;
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        while (true)
        {
            if (_start == _end && !await FillAsync(cancellationToken))
            {
                return line.Length == 0 ? null : line.ToString();
            }

            var b = _buffer[_start++];
            if (b == '\n')
            {
                return line.ToString().TrimEnd('\r');
            }

            line.Append((char)b);
        }
    }

    private async Task<bool> FillAsync(CancellationToken cancellationToken)
    {
        _start = 0;
        _end = await stream.ReadAsync(_buffer, cancellationToken);
        lock (_received)
        {
            _received.Write(_buffer, 0, _end);
        }

        return _end > 0;
    }
}

/// <summary>One HTTP/1.1 response as it came off the wire.</summary>
internal sealed record RawResponse(int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);

    /// <summary>The values of a header, joined with ", "; null when absent.</summary>
    public string? Header(string name)
    {
        var values = Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).ToList();
        return values.Count == 0 ? null : string.Join(", ", values);
    }

    /// <summary>Asserts a gateway problem response with this status and code.</summary>
    public JsonElement AssertProblem(int status, string code)
    {
        Assert.True(status == Status, $"Expected {status}, got {Status}: {Text}");
        Assert.Equal("application/problem+json", Header("Content-Type"));
        var json = JsonDocument.Parse(Body).RootElement;
        Assert.Equal(code, json.GetProperty("code").GetString());
        Assert.Equal(status, json.GetProperty("status").GetInt32());
        return json;
    }

    public static async Task<RawResponse> ReadAsync(HttpByteReader reader, bool headOnly, CancellationToken cancellationToken)
    {
        var head = await reader.ReadHeadAsync(cancellationToken) ?? throw new EndOfStreamException("The connection closed before a response.");
        var lines = head.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = lines.Skip(1).Select(l => l.Split(':', 2)).Select(p => KeyValuePair.Create(p[0].Trim(), p[1].Trim())).ToList();
        var response = new RawResponse(status, headers, []);
        byte[] body;
        if (headOnly || status is 101 or 204 or 304)
        {
            body = [];
        }
        else if (string.Equals(response.Header("Transfer-Encoding"), "chunked", StringComparison.OrdinalIgnoreCase))
        {
            body = await reader.ReadChunkedAsync(cancellationToken);
        }
        else if (response.Header("Content-Length") is { } length)
        {
            body = await reader.ReadExactlyAsync(long.Parse(length, System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        }
        else
        {
            body = await reader.ReadToEndAsync(cancellationToken);
        }

        return response with { Body = body };
    }
}

/// <summary>A client connection that writes exact bytes, for requests no well-behaved client library would send.</summary>
internal sealed class RawHttpClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawHttpClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        Reader = new HttpByteReader(_stream);
    }

    public HttpByteReader Reader { get; }

    public Socket Socket => _tcp.Client;

    public static async Task<RawHttpClient> ConnectAsync(Uri baseAddress, int? receiveBufferSize = null)
    {
        var tcp = new TcpClient(AddressFamily.InterNetwork);
        if (receiveBufferSize is { } size)
        {
            tcp.ReceiveBufferSize = size;
        }

        await tcp.ConnectAsync(IPAddress.Loopback, baseAddress.Port);
        return new RawHttpClient(tcp);
    }

    public Task SendAsync(string ascii, CancellationToken cancellationToken = default) => SendAsync(Encoding.ASCII.GetBytes(ascii), cancellationToken);

    public async Task SendAsync(byte[] bytes, CancellationToken cancellationToken = default)
    {
        await _stream.WriteAsync(bytes, cancellationToken);
        await _stream.FlushAsync(cancellationToken);
    }

    public Task<RawResponse> ReadResponseAsync(CancellationToken cancellationToken, bool headOnly = false) => RawResponse.ReadAsync(Reader, headOnly, cancellationToken);

    /// <summary>Sends one request and reads its response.</summary>
    public static async Task<RawResponse> ExchangeAsync(Uri baseAddress, string request, CancellationToken cancellationToken)
    {
        await using var client = await ConnectAsync(baseAddress);
        await client.SendAsync(request, cancellationToken);
        return await client.ReadResponseAsync(cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
