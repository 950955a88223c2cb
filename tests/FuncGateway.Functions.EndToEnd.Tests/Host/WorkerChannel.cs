using System.Collections.Concurrent;
using System.Threading.Channels;
using Grpc.Core;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;
using MsgType = Microsoft.Azure.Functions.Worker.Grpc.Messages.StreamingMessage.ContentOneofCase;

namespace FuncGateway.Functions.EndToEnd.Tests.Host;

/// <summary>
/// The host's end of the <c>FunctionRpc.EventStream</c>: the worker connects, says <c>StartStream</c>, and from then
/// on both sides send <see cref="StreamingMessage"/>s on the one stream. This class only moves messages and pairs
/// each answer with the request that is waiting for it; <see cref="FunctionsTestHost"/> decides what to send.
/// </summary>
/// <remarks>
/// Answers are paired by what identifies them in the protocol: the one <c>WorkerInitResponse</c> and
/// <c>FunctionMetadataResponse</c> of a start-up, a <c>FunctionLoadResponse</c> by function id, an
/// <c>InvocationResponse</c> by invocation id. <c>RpcLog</c> messages (the worker's logs, which the real host writes to
/// its own loggers) are kept for failure messages. Anything else the worker sends is counted and otherwise ignored.
/// </remarks>
internal sealed class WorkerChannel : FunctionRpc.FunctionRpcBase
{
    private const int MaxKeptLogs = 300;

    private readonly Channel<StreamingMessage> _outbound = Channel.CreateUnbounded<StreamingMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly TaskCompletionSource<StartStream> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StreamingMessage>> _waiting = new(StringComparer.Ordinal);
    private readonly Queue<string> _logs = new();
    private int _streams;
    private int _unexpected;

    /// <summary>Completes with the worker's <c>StartStream</c> message.</summary>
    public Task<StartStream> Started => _started.Task;

    public override async Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context)
    {
        // The real host advertises "MultiStream" and accepts more streams from one worker; this host does not.
        if (Interlocked.Increment(ref _streams) != 1)
        {
            throw new Grpc.Core.RpcException(new Status(StatusCode.FailedPrecondition, "The test host accepts one event stream per worker."));
        }

        var writing = WriteAllAsync(responseStream, context.CancellationToken);
        try
        {
            await foreach (var message in requestStream.ReadAllAsync(context.CancellationToken))
            {
                Dispatch(message);
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
            // The worker went away or the host is stopping.
        }
        finally
        {
            var ended = new InvalidOperationException("The worker closed its event stream.");
            _started.TrySetException(ended);
            foreach (var waiting in _waiting.Values)
            {
                waiting.TrySetException(ended);
            }

            _outbound.Writer.TryComplete();
        }

        await writing;
    }

    /// <summary>Queues a message for the worker.</summary>
    public ValueTask SendAsync(StreamingMessage message, CancellationToken cancellationToken = default) =>
        _outbound.Writer.WriteAsync(message, cancellationToken);

    /// <summary>Registers interest in the answer with this key; call before sending the request.</summary>
    public Task<StreamingMessage> Expect(string key)
    {
        var waiting = new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_waiting.TryAdd(key, waiting))
        {
            throw new InvalidOperationException($"Already waiting for '{key}'.");
        }

        return waiting.Task;
    }

    public static string InitKey => "init";

    public static string MetadataKey => "metadata";

    public static string LoadKey(string functionId) => "load:" + functionId;

    public static string InvocationKey(string invocationId) => "invocation:" + invocationId;

    /// <summary>The worker's most recent log lines, and how many of its messages nobody waited for, for failure messages.</summary>
    public string DescribeLogs()
    {
        var ignored = $"{Environment.NewLine}Messages from the worker that nobody waited for: {Volatile.Read(ref _unexpected)}.";
        lock (_logs)
        {
            return ignored + (_logs.Count == 0
                ? $"{Environment.NewLine}The worker sent no RpcLog."
                : $"{Environment.NewLine}Last {_logs.Count} RpcLog messages from the worker:{Environment.NewLine}{string.Join(Environment.NewLine, _logs)}");
        }
    }

    private void Dispatch(StreamingMessage message)
    {
        string? key = message.ContentCase switch
        {
            MsgType.StartStream => null,
            MsgType.WorkerInitResponse => InitKey,
            MsgType.FunctionMetadataResponse => MetadataKey,
            MsgType.FunctionLoadResponse => LoadKey(message.FunctionLoadResponse.FunctionId),
            MsgType.InvocationResponse => InvocationKey(message.InvocationResponse.InvocationId),
            _ => null,
        };

        if (message.ContentCase == MsgType.StartStream)
        {
            _started.TrySetResult(message.StartStream);
        }
        else if (message.ContentCase == MsgType.RpcLog)
        {
            Keep(message.RpcLog);
        }
        else if (key is not null && _waiting.TryRemove(key, out var waiting))
        {
            waiting.TrySetResult(message);
        }
        else
        {
            Interlocked.Increment(ref _unexpected);
        }
    }

    private void Keep(RpcLog log)
    {
        var line = $"[{log.Level}] {log.Category}: {log.Message}{(log.Exception is { } e ? $" ({e.Type}: {e.Message})" : "")}";
        lock (_logs)
        {
            _logs.Enqueue(line);
            while (_logs.Count > MaxKeptLogs)
            {
                _logs.Dequeue();
            }
        }
    }

    // One writer: a gRPC response stream takes one write at a time.
    private async Task WriteAllAsync(IServerStreamWriter<StreamingMessage> responseStream, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var message in _outbound.Reader.ReadAllAsync(cancellationToken))
            {
                await responseStream.WriteAsync(message, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The call ended.
        }
        catch (InvalidOperationException)
        {
            // The call completed while a message was queued.
        }
    }
}
