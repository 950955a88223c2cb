using System.Buffers;
using System.Text;
using FuncGateway.Server.Framing;

namespace FuncGateway.Server.Tests.Framing;

/// <summary>
/// The connection guard's scanner on its own: it must hand Kestrel every byte of valid traffic unchanged, however the
/// bytes are split into reads, and change the stream only for the two rules it exists for.
/// </summary>
public sealed class Http1FramingScannerTests
{
    private const string Valid =
        "\r\nGET /one HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n" +
        "POST /two HTTP/1.1\r\nHost: a\r\ncontent-length:  11 \r\n\r\nhello world" +
        "POST /three HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\nA;q=\"a;b\"\r\n0123456789\r\n0\r\nT: 1\r\n\r\n" +
        "POST /four HTTP/1.0\r\nHost: a\r\nContent-Length: 4\r\n\r\nfour" +
        "GET /five HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n" +
        "5;" + "zzzzzzzzzz" + "\r\nContent-Length: +5\r\n\r\n"; // after an upgrade head: tunnel bytes, never looked at

    [Fact]
    public void Valid_traffic_passes_unchanged_however_it_is_split()
    {
        var input = Encoding.ASCII.GetBytes(Valid);
        for (var size = 1; size <= 64; size++)
        {
            Assert.Equal(Valid, Scan(input, size));
        }

        Assert.Equal(Valid, Scan(input, input.Length));
    }

    [Theory]
    [InlineData(new byte[] { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01, (byte)'\r' })] // a TLS ClientHello's start, ending in CR
    [InlineData(new byte[] { (byte)'P', (byte)'R', (byte)'I', (byte)' ', (byte)'*', (byte)' ', (byte)'H', (byte)'T', (byte)'T', (byte)'P', (byte)'/', (byte)'2', (byte)'.', (byte)'0', (byte)'\r', (byte)'\n', (byte)'\r', (byte)'\n', (byte)'5', (byte)';' })]
    public void What_is_not_HTTP_1_passes_through_at_once(byte[] input)
    {
        var scanner = new Http1FramingScanner();
        var output = new ArrayBufferWriter<byte>();

        scanner.Process(input, output);

        Assert.Equal(input, output.WrittenSpan.ToArray());
    }

    [Fact]
    public void A_Content_Length_that_is_not_plain_digits_marks_the_head_and_drops_the_rest()
    {
        var output = Scan(Encoding.ASCII.GetBytes("GET /ok HTTP/1.1\r\n\r\nPOST /x HTTP/1.1\r\nContent-Length: +5\r\n\r\nhelloGET /smuggled HTTP/1.1\r\n\r\n"), 7);

        Assert.Equal("GET /ok HTTP/1.1\r\n\r\nPOST /x HTTP/1.1\r\nContent-Length: +5\r\nX-FuncGateway-Framing-Violation: content-length\r\n\r\n", output);
    }

    [Theory]
    [InlineData("POST /x HTTP/1.1\r\nX-A: 1\nTransfer-Encoding: chunked\r\n", "\r\n")] // a bare LF hides a header from a proxy in front
    [InlineData("GET /x HTTP/1.1\nHost: a\r\n", "\r\n")]
    [InlineData("GET /x HTTP/1.1\r\nHost: a\r\n", "\n")]
    public void A_head_with_a_bare_line_feed_is_marked_and_the_rest_dropped(string head, string end)
    {
        foreach (var readSize in new[] { 1, 2, 7, 4096 })
        {
            var output = Scan(Encoding.ASCII.GetBytes(head + end + "3\r\nabc\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n"), readSize);

            Assert.Equal(head + "X-FuncGateway-Framing-Violation: line-feed\r\n" + end, output);
        }
    }

    [Fact]
    public void Heads_split_anywhere_between_CR_and_LF_are_not_bare_line_feeds()
    {
        var input = Encoding.ASCII.GetBytes("GET /a HTTP/1.1\r\nHost: a\r\nX-Long: " + new string('v', 2000) + "\r\n\r\nGET /b HTTP/1.1\r\n\r\n");
        foreach (var readSize in new[] { 1, 2, 3, 7, 16 })
        {
            Assert.Equal(Encoding.ASCII.GetString(input), Scan(input, readSize));
        }
    }

    [Fact]
    public void A_chunk_extension_longer_than_the_limit_is_cut_where_it_passes_the_limit()
    {
        const string Head = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
        var atLimit = Head + "5;" + new string('a', 4095) + "\r\nhello\r\n0\r\n\r\n";
        var overLimit = Head + "1\r\nx\r\n5;" + new string('a', 4096) + "\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\n\r\n";

        Assert.Equal(atLimit, Scan(Encoding.ASCII.GetBytes(atLimit), 100));
        Assert.Equal(Head + "1\r\nx\r\n5;" + new string('a', 4095) + "\r\0", Scan(Encoding.ASCII.GetBytes(overLimit), 100));
    }

    [Fact]
    public void Long_lines_are_followed_across_reads_of_any_size()
    {
        // A bearer token and a long path: lines are taken up to their LF at once, and the version at the end of a
        // request line longer than the kept part is still read.
        var token = "Bearer " + new string('t', 3000);
        var path = "/" + new string('p', 2000);
        var valid = $"GET {path} HTTP/1.1\r\nAuthorization: {token}\r\nHost: a\r\n\r\nPOST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
        var smuggling = $"GET {path} HTTP/1.1\r\nAuthorization: {token}\r\n\r\nPOST /x HTTP/1.1\r\nAuthorization: {token}\r\nContent-Length: +3\r\n\r\nabcGET /smuggled HTTP/1.1\r\n\r\n";
        var marked = smuggling[..smuggling.IndexOf("\r\n\r\nabc", StringComparison.Ordinal)] + "\r\nX-FuncGateway-Framing-Violation: content-length\r\n\r\n";

        foreach (var size in new[] { 1, 2, 3, 7, 11, 64, 1000, 1024, 1025, 4096, 100_000 })
        {
            Assert.Equal(valid, Scan(Encoding.ASCII.GetBytes(valid), size));
            Assert.Equal(marked, Scan(Encoding.ASCII.GetBytes(smuggling), size));
        }
    }

    [Fact]
    public void A_framing_header_line_longer_than_the_kept_part_makes_the_scanner_stand_aside()
    {
        // Content-Length: +5 with its value past the kept 1,024 bytes: unsure, the scanner passes everything on (Kestrel decides).
        var input = "POST /x HTTP/1.1\r\nContent-Length:" + new string(' ', Http1FramingScanner.MaxParsedLineBytes) + "+5\r\n\r\nhelloGET /next HTTP/1.1\r\n\r\n";

        foreach (var size in new[] { 1, 5, 64, 1024, input.Length })
        {
            Assert.Equal(input, Scan(Encoding.ASCII.GetBytes(input), size));
        }
    }

    private static readonly Http1HeadLimits SmallLimits = new(RequestLineBytes: 32, HeaderBytes: 64, HeaderCount: 3);

    [Fact]
    public void Heads_within_the_limits_pass_unchanged_however_they_are_split()
    {
        // A request line of exactly 32 bytes with its CRLF; 64 bytes of header lines; 3 of them.
        var head = "GET /" + new string('a', 16) + " HTTP/1.1\r\n" + "Host: a\r\nB: 1\r\nC: " + new string('c', 44) + "\r\n\r\n";
        var shorter = "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok";
        var input = Encoding.ASCII.GetBytes(head + shorter + head);
        foreach (var readSize in new[] { 1, 2, 7, 30, 4096 })
        {
            Assert.Equal(head + shorter + head, Scan(input, readSize, SmallLimits));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(4096)]
    public void A_head_over_a_limit_is_ended_at_the_limit_with_the_violation_and_the_rest_dropped(int readSize)
    {
        const string Line = "X-FuncGateway-Framing-Violation: ";

        // Request line: cut 16 bytes before the limit of 32 (inside the target) and ended as an HTTP/1.0 line (which
        // needs no Host); also when it is over the limit only by its line end.
        Assert.Equal(
            "GET /" + new string('a', 11) + " HTTP/1.0\r\n" + Line + "request-line-too-long\r\n\r\n",
            Scan(Encoding.ASCII.GetBytes("GET /" + new string('a', 17) + " HTTP/1.1\r\nHost: a\r\n\r\n"), readSize, SmallLimits));
        Assert.Equal(
            "GET /" + new string('a', 11) + " HTTP/1.0\r\n" + Line + "request-line-too-long\r\n\r\n",
            Scan(Encoding.ASCII.GetBytes("GET /" + new string('a', 40) + " HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\n\r\n"), readSize, SmallLimits));

        // Header bytes: the header line cut at 64 bytes is ended, and Host added as none came before it.
        Assert.Equal(
            "GET / HTTP/1.1\r\nX-A: " + new string('b', 59) + "\r\nHost: localhost\r\n" + Line + "headers-too-large\r\n\r\n",
            Scan(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nX-A: " + new string('b', 100) + "\r\nHost: a\r\n\r\n"), readSize, SmallLimits));

        // Cut inside a name: it becomes a header with an empty value; a Host that came keeps the head from getting another.
        Assert.Equal(
            "GET / HTTP/1.1\r\nHost: a\r\n" + new string('N', 55) + ":\r\n" + Line + "headers-too-large\r\n\r\n",
            Scan(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: a\r\n" + new string('N', 70) + ": 1\r\n\r\n"), readSize, SmallLimits));

        // One header line more than the count: the head ends before it.
        Assert.Equal(
            "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n" + Line + "headers-too-large\r\n\r\n",
            Scan(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), readSize, SmallLimits));
    }

    private static string Scan(byte[] input, int readSize, Http1HeadLimits? limits = null)
    {
        var scanner = new Http1FramingScanner(limits);
        var output = new ArrayBufferWriter<byte>();
        for (var offset = 0; offset < input.Length; offset += readSize)
        {
            scanner.Process(input.AsSpan(offset, Math.Min(readSize, input.Length - offset)), output);
        }

        return Encoding.Latin1.GetString(output.WrittenSpan);
    }
}
