using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace FuncGateway.Server.Framing;

/// <summary>
/// Kestrel connection middleware that puts an <see cref="Http1FramingScanner"/> between the socket and Kestrel's
/// HTTP/1.x parser: the client's bytes are copied through one more pipe (with the same back-pressure as Kestrel's own),
/// and the scanner reports the framing rules Kestrel's parser would hide from the gateway. It sees what arrives on the
/// endpoint: on an endpoint where Kestrel itself terminates TLS it sees ciphertext and passes it through unchecked.
/// </summary>
internal static class Http1FramingGuard
{
    private const long PauseWriterThreshold = 1024 * 1024;

    /// <summary>Adds the guard to an endpoint; <paramref name="limits"/>: the request head limits it answers itself.</summary>
    public static void UseHttp1FramingGuard(this ListenOptions listen, Http1HeadLimits? limits = null) =>
        listen.Use(next => connection => RunAsync(next, connection, limits));

    private static async Task RunAsync(ConnectionDelegate next, ConnectionContext connection, Http1HeadLimits? limits)
    {
        var transport = connection.Transport;
        // The pump runs on a thread-pool thread already (the socket pipe's continuation): Kestrel's parser continues
        // inline on it when the pump flushes, instead of one more thread-pool hop per read; likewise the pump resumes
        // inline when Kestrel frees space (what Kestrel itself does with its inline scheduling option).
        var pipe = new Pipe(new PipeOptions(
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.Inline,
            pauseWriterThreshold: PauseWriterThreshold,
            resumeWriterThreshold: PauseWriterThreshold / 2,
            useSynchronizationContext: false));
        using var stop = new CancellationTokenSource();
        var pump = PumpAsync(transport.Input, pipe.Writer, new Http1FramingScanner(limits), stop.Token);
        connection.Transport = new GuardedTransport(pipe.Reader, transport.Output);
        try
        {
            await next(connection);
        }
        finally
        {
            // Kestrel is done with the connection: stop copying and give it back its own transport to dispose.
            await pipe.Reader.CompleteAsync();
            await stop.CancelAsync();
            await pump;
            connection.Transport = transport;
        }
    }

    private static async Task PumpAsync(PipeReader input, PipeWriter output, Http1FramingScanner scanner, CancellationToken stop)
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(stop);
                if (result.IsCanceled)
                {
                    break;
                }

                foreach (var segment in result.Buffer)
                {
                    scanner.Process(segment.Span, output);
                }

                input.AdvanceTo(result.Buffer.End);
                var flush = await output.FlushAsync(stop);
                if (result.IsCompleted || flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Kestrel closed the connection.
        }
#pragma warning disable CA1031 // A transport failure ends the copy and is handed to Kestrel as the input's failure.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            error = ex;
        }

        await output.CompleteAsync(error);
        await input.CompleteAsync();
    }

    private sealed class GuardedTransport(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
