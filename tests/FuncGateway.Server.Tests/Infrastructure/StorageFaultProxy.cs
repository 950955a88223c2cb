using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FuncGateway.Testing;

namespace FuncGateway.Server.Tests.Infrastructure;

/// <summary>
/// A TCP relay on 127.0.0.1 in front of an Azurite instance that can, on demand, answer every storage request itself
/// with an error status (and optionally a <c>Retry-After</c>) instead of relaying it: storage that misbehaves, for a
/// gateway given <see cref="ConnectionString"/>. Switching modes drops every open connection, so pooled connections
/// see the new mode at once.
/// </summary>
internal sealed class StorageFaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Socket, byte> _open = new();
    private readonly ConcurrentQueue<FaultedRequest> _faulted = new();
    private readonly Task _accepting;
    private volatile Fault? _fault;

    private StorageFaultProxy(AzuriteInstance target)
    {
        _targetPort = target.Port;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        var port = ((IPEndPoint)_listener.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture);
        ConnectionString = $"DefaultEndpointsProtocol=http;AccountName={AzuriteInstance.AccountName};AccountKey={AzuriteInstance.AccountKey};" +
                           $"TableEndpoint=http://127.0.0.1:{port}/{AzuriteInstance.AccountName};";
        _accepting = AcceptAsync();
    }

    /// <summary>The development account's connection string, through this proxy.</summary>
    public string ConnectionString { get; }

    /// <summary>The requests answered with a fault so far, oldest first.</summary>
    public IReadOnlyCollection<FaultedRequest> Faulted => _faulted;

    public static StorageFaultProxy Start(AzuriteInstance target) => new(target);

    /// <summary>From now on every request is answered <paramref name="status"/> (Table Storage's error body), none reaches storage.</summary>
    public void Fail(int status, string? retryAfter = null)
    {
        _fault = new Fault(status, retryAfter);
        DropConnections();
    }

    /// <summary>From now on every request is read and never answered: storage that hangs. The connection stays open.</summary>
    public void Hang()
    {
        _fault = new Fault(0, null);
        DropConnections();
    }

    /// <summary>From now on every request is relayed to storage again.</summary>
    public void Pass()
    {
        _fault = null;
        DropConnections();
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        DropConnections();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stopping.Dispose();
    }

    private void DropConnections()
    {
        foreach (var socket in _open.Keys)
        {
            _open.TryRemove(socket, out _);
            socket.Close(0);
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var client = await _listener.AcceptSocketAsync(_stopping.Token);
            _open[client] = 0;
            _ = _fault is { } fault ? ServeFaultAsync(client, fault) : RelayAsync(client);
        }
    }

    private async Task ServeFaultAsync(Socket client, Fault fault)
    {
        try
        {
            await using var stream = new NetworkStream(client, ownsSocket: true);
            var buffer = new List<byte>();
            var chunk = new byte[8192];
            while (true)
            {
                // One request: the head up to the blank line, then Content-Length bytes of body.
                int end;
                while ((end = IndexOfHeadEnd(buffer)) < 0)
                {
                    var read = await stream.ReadAsync(chunk, _stopping.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    buffer.AddRange(chunk.AsSpan(0, read));
                }

                var head = Encoding.ASCII.GetString([.. buffer.GetRange(0, end)]);
                var length = ContentLength(head);
                while (buffer.Count < end + 4 + length)
                {
                    var read = await stream.ReadAsync(chunk, _stopping.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    buffer.AddRange(chunk.AsSpan(0, read));
                }

                buffer.RemoveRange(0, end + 4 + length);
                _faulted.Enqueue(new FaultedRequest(head[..head.IndexOf('\r', StringComparison.Ordinal)], Header(head, "x-ms-client-request-id")));
                if (fault.Status == 0)
                {
                    await Task.Delay(Timeout.Infinite, _stopping.Token);
                }

                await stream.WriteAsync(Response(fault), _stopping.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            _open.TryRemove(client, out _);
        }
    }

    private async Task RelayAsync(Socket client)
    {
        var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, _stopping.Token);
            _open[upstream] = 0;
            await using var a = new NetworkStream(client, ownsSocket: true);
            await using var b = new NetworkStream(upstream, ownsSocket: true);
            var one = a.CopyToAsync(b, _stopping.Token);
            var other = b.CopyToAsync(a, _stopping.Token);
            await Task.WhenAny(one, other);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            _open.TryRemove(client, out _);
            _open.TryRemove(upstream, out _);
            client.Close(0);
            upstream.Close(0);
        }
    }

    private static int IndexOfHeadEnd(List<byte> buffer)
    {
        for (var i = 0; i + 3 < buffer.Count; i++)
        {
            if (buffer[i] == '\r' && buffer[i + 1] == '\n' && buffer[i + 2] == '\r' && buffer[i + 3] == '\n')
            {
                return i;
            }
        }

        return -1;
    }

    private static int ContentLength(string head) =>
        Header(head, "Content-Length") is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : 0;

    private static string? Header(string head, string name)
    {
        foreach (var line in head.Split("\r\n"))
        {
            if (line.Length > name.Length && line[name.Length] == ':' && line.StartsWith(name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(name.Length + 1)..].Trim();
            }
        }

        return null;
    }

    private static byte[] Response(Fault fault)
    {
        const string body = """{"odata.error":{"code":"ServerBusy","message":{"lang":"en-US","value":"Injected by the test's fault proxy."}}}""";
        var retryAfter = fault.RetryAfter is null ? "" : $"Retry-After: {fault.RetryAfter}\r\n";
        return Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {fault.Status.ToString(CultureInfo.InvariantCulture)} Injected\r\n{retryAfter}x-ms-error-code: ServerBusy\r\n" +
            $"Content-Type: application/json;odata=minimalmetadata\r\nContent-Length: {body.Length.ToString(CultureInfo.InvariantCulture)}\r\n\r\n{body}");
    }

    private sealed record Fault(int Status, string? RetryAfter);
}

/// <summary>
/// A request the proxy answered with a fault: its request line, and the storage client's request id (the same on
/// every try of one call, so distinct ids count calls, not retries).
/// </summary>
internal sealed record FaultedRequest(string RequestLine, string? ClientRequestId);
