using System.Buffers;
using System.Text;
using FuncGateway.Forwarding;

namespace FuncGateway.Server.Framing;

/// <summary>
/// Follows the HTTP/1.x request framing of one client connection on its raw bytes, the way Kestrel reads it, and
/// passes the bytes on. It exists for the two rules Kestrel's parser hides from the gateway core: a
/// <c>Content-Length</c> that is not plain digits (Kestrel reads <c>+5</c> as 5) and over-long chunk extensions
/// (Kestrel skips any length); and a line of the head ended by a bare LF (Kestrel accepts it, a proxy in front may read
/// it as part of a header value and frame the request differently). It changes the stream only to report them:
/// <list type="bullet">
/// <item>A head with such a <c>Content-Length</c> or a bare LF gets the header <see cref="HostViolations.Header"/>,
/// which makes the core refuse the request with 400 before anything goes upstream; the rest of the connection is dropped.</item>
/// <item>A chunk-size line whose extensions pass <see cref="HostViolations.MaxChunkExtensionBytes"/> is cut by bytes
/// Kestrel's chunk parser rejects (<c>CR NUL</c>), so reading the body fails and the request gets 400; the rest of the
/// connection is dropped.</item>
/// <item>Given <see cref="Http1HeadLimits"/>, a request line or a header section over them is cut where it crosses the
/// limit and ended as a head Kestrel reads (its own limits are a few bytes higher), carrying the header
/// <see cref="HostViolations.Header"/>, so that the core answers 414 or 431 as problem+json instead of Kestrel's empty
/// answer; the rest of the connection is dropped. The check counts the bytes it passes on; it holds back only the
/// last <see cref="HeldLineBytes"/> bytes of a request line near the limit, until the line ends.</item>
/// </list>
/// Whenever the bytes stop looking like HTTP/1.x framing it understands (not HTTP/1.x, an upgrade or CONNECT, a head
/// Kestrel will refuse anyway), it stops looking and passes everything through unchanged: it never refuses what
/// Kestrel would accept except for those two rules. Not thread-safe: one instance per connection, fed in order.
/// </summary>
internal sealed class Http1FramingScanner
{
    /// <summary>
    /// Header lines are kept up to this length. A longer <c>Content-Length</c>, <c>Transfer-Encoding</c> or
    /// <c>Connection</c> line makes the scanner unsure, and it stops looking (passes everything through).
    /// </summary>
    internal const int MaxParsedLineBytes = 1024;

    /// <summary>
    /// How many bytes below the request line limit are held back until the line ends: more than an HTTP/1.x version
    /// and line end (<c> HTTP/1.1\r\n</c>), so that a line over the limit is cut inside its target.
    /// </summary>
    internal const int HeldLineBytes = 16;

    private static readonly byte[] ViolationLine = Encoding.ASCII.GetBytes($"{HostViolations.Header}: {HostViolations.ContentLength}\r\n");
    private static readonly byte[] LineFeedViolationLine = Encoding.ASCII.GetBytes($"{HostViolations.Header}: {HostViolations.LineFeed}\r\n");
    private static readonly byte[] ChunkCut = "\r\0"u8.ToArray();

    // The end of a request line cut at the limit: HTTP/1.0, so that the head needs no Host.
    private static readonly byte[] RequestLineRefusal = Encoding.ASCII.GetBytes($" HTTP/1.0\r\n{HostViolations.Header}: {HostViolations.RequestLineTooLong}\r\n\r\n");
    private static readonly byte[] HeadersViolationLine = Encoding.ASCII.GetBytes($"{HostViolations.Header}: {HostViolations.HeadersTooLarge}\r\n\r\n");

    // An HTTP/1.1 head without Host is refused by Kestrel (empty 400): a head cut before its Host gets this one.
    private static readonly byte[] RefusalHost = "Host: localhost\r\n"u8.ToArray();
    private static readonly byte[] Cr = "\r"u8.ToArray();

    private readonly Http1HeadLimits? _limits;
    private readonly byte[] _line = new byte[MaxParsedLineBytes];
    private readonly byte[] _tail = new byte[" HTTP/1.1\r\n".Length];
    private State _state = State.RequestLine;
    private int _lineLength;
    private bool _lineTruncated;
    private bool _heldCr;

    // The current head's framing facts.
    private string? _method;
    private List<string>? _contentLengths;
    private List<string>? _transferEncodings;
    private bool _connectionUpgrade;
    private bool _unsure;

    // A line of the head ended with a bare LF (Kestrel accepts it; a proxy in front may read it as part of a value).
    private bool _bareLineFeed;
    private byte _lastLineByte;

    // Against _limits: bytes of the request line, then of the header section; header lines; whether one was Host.
    private long _headBytes;
    private int _headerCount;
    private bool _sawHost;

    // The end of a request line near the limit, held back until the line ends (see LimitedRequestLineBytes).
    private readonly byte[] _heldLine = new byte[HeldLineBytes];
    private int _heldLineLength;

    // Body progress.
    private long _remaining;
    private int _hexDigits;
    private long _chunkSize;
    private int _extensionBytes;

    private enum State
    {
        RequestLine,
        HeaderLine,
        FixedBody,
        ChunkSizeLine,
        ChunkData,
        ChunkDataEnd,
        TrailerLine,
        PassThrough,
        Discard,
    }

    /// <param name="limits">The request head limits to answer with problem+json; null: Kestrel's own answers.</param>
    public Http1FramingScanner(Http1HeadLimits? limits = null) => _limits = limits;

    /// <summary>Everything from now on is dropped: the request that broke a rule is the connection's last.</summary>
    public bool Discarding => _state == State.Discard;

    /// <summary>Scans <paramref name="data"/> and writes what Kestrel should receive to <paramref name="output"/>.</summary>
    public void Process(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        var run = 0;
        var i = 0;
        while (i < data.Length)
        {
            switch (_state)
            {
                case State.PassThrough:
                    output.Write(data[run..]);
                    return;
                case State.Discard:
                    return;
                case State.FixedBody or State.ChunkData:
                    var take = (int)Math.Min(_remaining, data.Length - i);
                    i += take;
                    _remaining -= take;
                    if (_remaining == 0)
                    {
                        _state = _state == State.FixedBody ? StartHead() : State.ChunkDataEnd;
                    }

                    continue;
            }

            var b = data[i];
            switch (_state)
            {
                case State.RequestLine:
                    if (_lineLength == 0 && b is (byte)'\r' or (byte)'\n')
                    {
                        i++; // Empty lines before a request line are ignored (RFC 9112 §2.2).
                        break;
                    }

                    if (_lineLength == 0 && !char.IsAsciiLetterUpper((char)b))
                    {
                        i++;
                        _state = State.PassThrough; // Not an HTTP/1.x method: TLS, an HTTP/2 preface of an h2c client, or garbage.
                        break;
                    }

                    if (_limits is { } lineLimits)
                    {
                        i = LimitedRequestLineBytes(data, i, ref run, output, lineLimits);
                        if (_state == State.Discard)
                        {
                            return;
                        }

                        break;
                    }

                    i += RequestLineBytes(data[i..]);
                    break;
                case State.HeaderLine:
                    if (_lineLength == 0 && !_heldCr && b == (byte)'\r')
                    {
                        // Perhaps the empty line that ends the head: hold it back in case a header has to go before it.
                        output.Write(data[run..i]);
                        _heldCr = true;
                        run = ++i;
                        break;
                    }

                    if (_lineLength == 0 && (b == (byte)'\n' || _heldCr))
                    {
                        output.Write(data[run..i]);
                        i++;
                        run = i;
                        if (b == (byte)'\n')
                        {
                            _bareLineFeed |= !_heldCr;
                            EndOfHead(output, _heldCr ? "\r\n"u8 : "\n"u8);
                        }
                        else
                        {
                            // A line starting with a bare CR: Kestrel refuses the head.
                            output.Write(Cr);
                            output.Write([b]);
                            _state = State.PassThrough;
                        }

                        _heldCr = false;
                        break;
                    }

                    // The rest of the line at once, up to and including its LF (header bytes are most of what a
                    // request sends: a bearer token alone is hundreds).
                    var line = ThroughLineFeed(data[i..]);
                    if (_limits is { } limits && BytesWithinHeaderLimits(limits, line) is var allowed and >= 0)
                    {
                        // Over a limit: end the head where it stands, with the violation for the core to answer 431.
                        LineBytes(line[..allowed]);
                        i += allowed;
                        output.Write(data[run..i]);
                        EndHeadOverLimit(output);
                        _state = State.Discard;
                        return;
                    }

                    LineBytes(line);
                    i += line.Length;
                    if (line[^1] == (byte)'\n')
                    {
                        HeaderLine();
                    }

                    break;
                case State.ChunkSizeLine:
                    if (!ChunkSizeByte(b))
                    {
                        output.Write(data[run..i]);
                        output.Write(ChunkCut);
                        _state = State.Discard;
                        return;
                    }

                    i++;
                    break;
                case State.ChunkDataEnd:
                    i++;
                    if (b == (byte)'\n')
                    {
                        _state = State.ChunkSizeLine;
                        ResetChunkLine();
                    }
                    else if (b != (byte)'\r' || _lineLength++ > 0)
                    {
                        _state = State.PassThrough; // Kestrel refuses anything but CRLF after chunk data.
                    }

                    break;
                case State.TrailerLine:
                    i++;
                    if (b == (byte)'\n')
                    {
                        var empty = _lineLength == 0 || (_lineLength == 1 && _heldCr);
                        _lineLength = 0;
                        _heldCr = false;
                        if (empty)
                        {
                            _state = StartHead();
                        }
                    }
                    else
                    {
                        _heldCr = _lineLength == 0 && b == (byte)'\r';
                        _lineLength++;
                    }

                    break;
            }
        }

        if (_state != State.Discard && run < data.Length)
        {
            output.Write(data[run..]);
        }
    }

    /// <summary>
    /// Takes the request line's bytes from <paramref name="data"/> (which starts inside the line, past its first byte's
    /// checks) up to and including its LF, and reads the line when the LF is among them. Returns how many it took.
    /// </summary>
    private int RequestLineBytes(ReadOnlySpan<byte> data)
    {
        // The method is at the start (kept in _line), the version at the end (the last bytes, kept in _tail).
        var bytes = ThroughLineFeed(data);
        LineBytes(bytes);
        if (bytes.Length >= _tail.Length)
        {
            bytes[^_tail.Length..].CopyTo(_tail);
        }
        else
        {
            _tail.AsSpan(bytes.Length).CopyTo(_tail);
            bytes.CopyTo(_tail.AsSpan(_tail.Length - bytes.Length));
        }

        if (bytes[^1] != (byte)'\n')
        {
            return bytes.Length;
        }

        var tail = TrimLineEnd(_tail);
        var start = _line.AsSpan(0, _lineLength);
        var firstSpace = start.IndexOf((byte)' ');
        var http1 = firstSpace > 0 && (tail.EndsWith(" HTTP/1.1"u8) || tail.EndsWith(" HTTP/1.0"u8));
        _method = http1 ? Encoding.ASCII.GetString(start[..firstSpace]) : null;
        _lineLength = 0;
        _lineTruncated = false;
        _headBytes = 0;
        Array.Clear(_tail);
        _state = http1 ? State.HeaderLine : State.PassThrough;
        return bytes.Length;
    }

    /// <summary>
    /// <see cref="RequestLineBytes"/> against the request line limit, for the request line's bytes from
    /// <paramref name="data"/>[<paramref name="i"/>]. The last <see cref="HeldLineBytes"/> bytes below the limit are held
    /// back until the line ends within it: a line over the limit is then cut before them, inside its target (the
    /// version and line end of a longer line all come after), and ended there as a request the core answers with 414.
    /// Returns where the scan goes on.
    /// </summary>
    private int LimitedRequestLineBytes(ReadOnlySpan<byte> data, int i, ref int run, IBufferWriter<byte> output, Http1HeadLimits limits)
    {
        var bytes = ThroughLineFeed(data[i..]);
        var before = _headBytes;
        _headBytes += bytes.Length;
        var holdFrom = limits.RequestLineBytes - HeldLineBytes;
        var now = (int)Math.Clamp(holdFrom - before, 0, bytes.Length);
        if (_headBytes <= limits.RequestLineBytes)
        {
            if (bytes[^1] == (byte)'\n')
            {
                // Within the limit: what was held goes on, before this read's bytes of the line.
                if (_heldLineLength > 0)
                {
                    output.Write(data[run..i]);
                    output.Write(_heldLine.AsSpan(0, _heldLineLength));
                    _heldLineLength = 0;
                    run = i;
                }
            }
            else if (_headBytes > holdFrom)
            {
                output.Write(data[run..(i + now)]);
                bytes[now..].CopyTo(_heldLine.AsSpan(_heldLineLength));
                _heldLineLength += bytes.Length - now;
                run = i + bytes.Length;
            }

            return i + RequestLineBytes(bytes);
        }

        LineBytes(bytes[..now]);
        if (_line.AsSpan(0, _lineLength).IndexOf((byte)' ') > 0)
        {
            // Over the limit: what went on, ended here, is a request line with the violation; the rest is dropped.
            output.Write(data[run..(i + now)]);
            output.Write(RequestLineRefusal);
            _heldLineLength = 0;
            _state = State.Discard;
            return data.Length;
        }

        // The method has not ended: no request line Kestrel would read; it gets Kestrel's own answer.
        output.Write(data[run..i]);
        output.Write(_heldLine.AsSpan(0, _heldLineLength));
        _heldLineLength = 0;
        run = i;
        _state = State.PassThrough;
        return i;
    }

    /// <summary><paramref name="data"/> up to and including its first LF, or all of it when it has none.</summary>
    private static ReadOnlySpan<byte> ThroughLineFeed(ReadOnlySpan<byte> data)
    {
        var lf = data.IndexOf((byte)'\n');
        return lf < 0 ? data : data[..(lf + 1)];
    }

    /// <summary>Appends to the current line what fits in <see cref="_line"/>; the line is marked truncated when some does not.</summary>
    private void LineBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 0)
        {
            if (bytes[^1] == (byte)'\n' && (bytes.Length >= 2 ? bytes[^2] : _lastLineByte) != (byte)'\r')
            {
                _bareLineFeed = true;
            }

            _lastLineByte = bytes[^1];
        }

        var room = _line.Length - _lineLength;
        if (bytes.Length > room)
        {
            bytes = bytes[..room];
            _lineTruncated = true;
        }

        bytes.CopyTo(_line.AsSpan(_lineLength));
        _lineLength += bytes.Length;
    }

    private void HeaderLine()
    {
        var line = TrimLineEnd(_line.AsSpan(0, _lineLength));
        var truncated = _lineTruncated;
        _lineLength = 0;
        _lineTruncated = false;
        _headerCount++;
        var colon = line.IndexOf((byte)':');
        if (colon <= 0)
        {
            return; // Kestrel refuses the head.
        }

        var name = line[..colon];
        if (_limits is not null && Ascii.EqualsIgnoreCase(name, "Host"u8))
        {
            _sawHost = true;
            return;
        }

        var value = Encoding.Latin1.GetString(line[(colon + 1)..].Trim(" \t"u8));
        if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
        {
            (_contentLengths ??= []).Add(value);
        }
        else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
        {
            (_transferEncodings ??= []).Add(value);
        }
        else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
        {
            _connectionUpgrade |= value.Split(',').Any(static t => t.Trim(' ', '\t').Equals("upgrade", StringComparison.OrdinalIgnoreCase));
        }
        else
        {
            return;
        }

        _unsure |= truncated;
    }

    /// <summary>
    /// How many bytes of <paramref name="line"/> (the next bytes of a header line) go on before the head is ended for
    /// crossing a header limit, or -1 while it stays within them.
    /// </summary>
    private int BytesWithinHeaderLimits(Http1HeadLimits limits, ReadOnlySpan<byte> line)
    {
        if (_lineLength == 0 && _headerCount >= limits.HeaderCount)
        {
            return 0; // One header line more than the limit: the head ends before it.
        }

        _headBytes += line.Length;
        if (_headBytes <= limits.HeaderBytes)
        {
            return -1;
        }

        var allowed = Math.Max(0, line.Length - (int)(_headBytes - limits.HeaderBytes));
        return allowed > 0 && line[allowed - 1] == (byte)'\r' ? allowed - 1 : allowed;
    }

    /// <summary>
    /// Ends a head that crossed a header limit where it stands: a partial header line becomes a header Kestrel reads
    /// (<c>name:</c> when its colon has not come), then Host when none came, the violation and the empty line.
    /// </summary>
    private void EndHeadOverLimit(IBufferWriter<byte> output)
    {
        if (_lineLength > 0)
        {
            var partial = _line.AsSpan(0, _lineLength);
            var colon = partial.IndexOf((byte)':');
            if (colon < 0)
            {
                output.Write(":"u8);
            }

            output.Write(_lastLineByte == (byte)'\r' ? "\n"u8 : "\r\n"u8);
            _sawHost |= Ascii.EqualsIgnoreCase(colon < 0 ? partial : partial[..colon], "Host"u8);
        }

        if (!_sawHost)
        {
            output.Write(RefusalHost);
        }

        output.Write(HeadersViolationLine);
    }

    private void EndOfHead(IBufferWriter<byte> output, ReadOnlySpan<byte> terminator)
    {
        if (_bareLineFeed)
        {
            output.Write(LineFeedViolationLine);
            output.Write(terminator);
            _state = State.Discard;
            return;
        }

        if (_unsure)
        {
            output.Write(terminator);
            _state = State.PassThrough;
            return;
        }

        if (_contentLengths?.Any(static v => v.Length == 0 || !v.All(char.IsAsciiDigit)) == true)
        {
            output.Write(ViolationLine);
            output.Write(terminator);
            _state = State.Discard;
            return;
        }

        output.Write(terminator);
        _state = NextAfterHead();
        if (_state == State.RequestLine)
        {
            StartHead();
        }
    }

    /// <summary>What comes after a head, by Kestrel's rules: Transfer-Encoding wins over Content-Length.</summary>
    private State NextAfterHead()
    {
        var hasBody = _transferEncodings is not null || _contentLengths?.Any(static v => v.TrimStart('0').Length > 0) == true;
        if ((_connectionUpgrade && !hasBody) || string.Equals(_method, "CONNECT", StringComparison.Ordinal))
        {
            return State.PassThrough; // Maybe a tunnel from here on; the core closes the connection unless it became one.
        }

        if (_transferEncodings is not null)
        {
            var last = string.Join(',', _transferEncodings).Split(',').Select(static t => t.Trim(' ', '\t')).LastOrDefault(static t => t.Length > 0);
            if (!string.Equals(last, "chunked", StringComparison.OrdinalIgnoreCase))
            {
                return State.PassThrough; // Kestrel refuses a request whose last transfer coding is not chunked.
            }

            ResetChunkLine();
            return State.ChunkSizeLine;
        }

        if (_contentLengths is null)
        {
            return State.RequestLine;
        }

        if (_contentLengths.Count != 1 || !long.TryParse(_contentLengths[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length))
        {
            return State.PassThrough; // Several or unreadable lengths: Kestrel refuses the head.
        }

        _remaining = length;
        return length > 0 ? State.FixedBody : State.RequestLine;
    }

    /// <summary>One byte of a chunk-size line; false when its extensions have become too long.</summary>
    private bool ChunkSizeByte(byte b)
    {
        if (b == (byte)'\n')
        {
            if (_hexDigits == 0)
            {
                _state = State.PassThrough; // Kestrel refuses a chunk without a size.
            }
            else if (_chunkSize == 0)
            {
                _state = State.TrailerLine;
                _lineLength = 0;
                _heldCr = false;
            }
            else
            {
                _remaining = _chunkSize;
                _state = State.ChunkData;
            }

            return true;
        }

        if (b == (byte)'\r')
        {
            return true;
        }

        if (_extensionBytes == 0 && char.IsAsciiHexDigit((char)b))
        {
            if (++_hexDigits > 8)
            {
                _state = State.PassThrough; // Larger than Kestrel reads: it refuses the chunk.
                return true;
            }

            _chunkSize = (_chunkSize << 4) | (uint)(b <= (byte)'9' ? b - '0' : (b | 0x20) - 'a' + 10);
            return true;
        }

        return ++_extensionBytes <= HostViolations.MaxChunkExtensionBytes;
    }

    private void ResetChunkLine()
    {
        _hexDigits = 0;
        _chunkSize = 0;
        _extensionBytes = 0;
        _lineLength = 0;
    }

    private State StartHead()
    {
        _method = null;
        _contentLengths = null;
        _transferEncodings = null;
        _connectionUpgrade = false;
        _unsure = false;
        _bareLineFeed = false;
        _lastLineByte = 0;
        _lineLength = 0;
        _lineTruncated = false;
        _heldCr = false;
        _headBytes = 0;
        _headerCount = 0;
        _sawHost = false;
        return State.RequestLine;
    }

    private static ReadOnlySpan<byte> TrimLineEnd(ReadOnlySpan<byte> line) => line.TrimEnd("\r\n"u8);
}
