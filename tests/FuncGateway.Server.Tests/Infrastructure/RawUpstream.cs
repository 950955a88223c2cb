using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FuncGateway.Server.Tests.Infrastructure;

/// <summary>
/// An upstream on a raw <see cref="TcpListener"/> at 127.0.0.1:0, for upstreams that must misbehave at the socket
/// level. Each accepted connection is handed to the handler; every connection is kept with everything it received.
/// </summary>
internal sealed class RawUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<RawUpstreamConnection, CancellationToken, Task> _handler;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<RawUpstreamConnection> _connections = new();
    private readonly Task _accepting;

    private RawUpstream(Func<RawUpstreamConnection, CancellationToken, Task> handler)
    {
        _handler = handler;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        BaseAddress = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _accepting = AcceptAsync();
    }

    public Uri BaseAddress { get; }

    /// <summary>The connections accepted so far, in order.</summary>
    public IReadOnlyList<RawUpstreamConnection> Connections => [.. _connections];

    public static RawUpstream Start(Func<RawUpstreamConnection, CancellationToken, Task> handler) => new(handler);

    private async Task AcceptAsync()
    {
        var id = 0;
        while (!_stop.IsCancellationRequested)
        {
            TcpClient tcp;
            try
            {
                tcp = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var connection = new RawUpstreamConnection(++id, tcp);
            _connections.Enqueue(connection);
            _ = Task.Run(async () =>
            {
                try
                {
                    await _handler(connection, _stop.Token);
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or SocketException or EndOfStreamException)
                {
                    // The gateway closed the connection, or the test ended.
                }
                finally
                {
                    connection.Closed.TrySetResult();
                    tcp.Dispose();
                }
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }

        _stop.Dispose();
    }
}

/// <summary>One connection to a <see cref="RawUpstream"/>.</summary>
internal sealed class RawUpstreamConnection : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    public RawUpstreamConnection(int id, TcpClient tcp)
    {
        Id = id;
        _tcp = tcp;
        _stream = tcp.GetStream();
        Reader = new HttpByteReader(_stream);
    }

    /// <summary>1 for the first connection accepted, and so on.</summary>
    public int Id { get; }

    public HttpByteReader Reader { get; }

    /// <summary>Completes when the handler is done with the connection (it returned, or the gateway closed it).</summary>
    public TaskCompletionSource Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Everything the gateway sent on this connection, as Latin-1 text.</summary>
    public string ReceivedText => Encoding.Latin1.GetString(Reader.Received());

    public async Task WriteAsync(string ascii, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(Encoding.ASCII.GetBytes(ascii), cancellationToken);
        await _stream.FlushAsync(cancellationToken);
    }

    /// <summary>Answers 200 with <paramref name="body"/> (text/plain, Content-Length), keeping the connection open.</summary>
    public Task OkAsync(string body, CancellationToken cancellationToken) =>
        WriteAsync($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {Encoding.ASCII.GetByteCount(body)}\r\n\r\n{body}", cancellationToken);

    public void Dispose() => _tcp.Dispose();
}
