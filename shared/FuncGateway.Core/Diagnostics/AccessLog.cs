using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using FuncGateway.Model;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Diagnostics;

/// <summary>
/// Completion step of the optional access log (<c>FuncGateway:Telemetry:AccessLog</c>): one JSON object per request
/// on one line. It holds what an operator needs and nothing a client could use to hurt someone: never a header
/// value, a credential, a query string (only the path) or a body; the caller is the id the gateway resolved (API-key
/// consumer, token subject), never the credential.
/// </summary>
internal sealed class AccessLogCompletion(IAccessLogSink? sink, TimeProvider time) : IGatewayCompletion, IAsyncDisposable
{
    public ValueTask OnCompletedAsync(GatewayCompletionContext context)
    {
        sink?.Write(Format(context, time));
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => sink is IAsyncDisposable disposable ? disposable.DisposeAsync() : ValueTask.CompletedTask;

    /// <summary>
    /// The method as the line writes it: one of the nine standard methods, or one the matched route's <c>Methods</c>
    /// names (the registry's spelling), verbatim; any other <c>_OTHER</c>. A client chooses the method, any token of any
    /// length, and the log must not carry what it makes up (as metrics and span names do not).
    /// </summary>
    internal static string LoggedMethod(string method, GatewayRequestFeature? feature)
    {
        var known = GatewayTelemetry.KnownMethod(method);
        if (known != GatewayTelemetry.OtherMethod || feature is null)
        {
            return known;
        }

        foreach (var listed in feature.Route.Definition.Methods)
        {
            if (string.Equals(listed, method, StringComparison.OrdinalIgnoreCase))
            {
                return listed;
            }
        }

        return known;
    }

    /// <summary>The line: time, requestId, method, path, route, status, durationMs, upstream, instance, attempts, upstreamMs, caller, client, auth, rateLimit, code.</summary>
    internal static string Format(GatewayCompletionContext context, TimeProvider time)
    {
        var http = context.HttpContext;
        var feature = context.Feature;
        var elapsed = time.GetElapsedTime(context.StartTimestamp);
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("time", time.GetUtcNow() - elapsed);
            json.WriteString("requestId", http.TraceIdentifier);
            json.WriteString("method", LoggedMethod(http.Request.Method, feature));
            json.WriteString("path", http.Request.PathBase.Add(http.Request.Path).Value);
            json.WriteNumber("status", http.Response.StatusCode);
            json.WriteNumber("durationMs", Math.Round(elapsed.TotalMilliseconds, 3));
            if (feature is not null)
            {
                json.WriteString("route", feature.Route.Definition.Id);
                json.WriteString("upstream", feature.Route.Pool.Name);
                if (feature.Instance is { } instance)
                {
                    json.WriteString("instance", instance.Url);
                }

                json.WriteNumber("attempts", feature.UpstreamAttempts);
                json.WriteNumber("upstreamMs", Math.Round(feature.UpstreamTime.TotalMilliseconds, 3));
                if (feature.Identity is { } caller && (caller.ConsumerId ?? caller.UserId) is { } id)
                {
                    json.WriteString("caller", id);
                }

                if (feature.ClientAddress is { } client)
                {
                    json.WriteString("client", client.ToString());
                }

                foreach (var field in GatewayTelemetry.DecisionFields)
                {
                    if (field.Read(feature) is { } value)
                    {
                        json.WriteString(field.Json, value);
                    }
                }
            }

            if (http.Features.Get<GatewayProblemFeature>() is { } problem)
            {
                json.WriteString("code", problem.Code);
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

/// <summary>Where access log lines go.</summary>
internal interface IAccessLogSink
{
    void Write(string line);
}

/// <summary>Lines as the message of log event 3100, category <c>FuncGateway.AccessLog</c> (the diagnostics range; 5000 is the rate limiter's outage).</summary>
internal sealed partial class LoggerAccessLogSink(ILoggerFactory loggers) : IAccessLogSink
{
    public const string Category = "FuncGateway.AccessLog";

    private readonly ILogger _logger = loggers.CreateLogger(Category);

    public void Write(string line) => Entry(_logger, line);

    [LoggerMessage(3100, LogLevel.Information, "{AccessLog}")]
    private static partial void Entry(ILogger logger, string accessLog);
}

/// <summary>
/// Lines on standard output, written by one background task so that no request waits on the console. When the
/// queue is full (output slower than traffic) lines are dropped, never requests slowed.
/// </summary>
internal sealed class ConsoleAccessLogSink : IAccessLogSink, IAsyncDisposable
{
    private readonly Channel<string> _lines = Channel.CreateBounded<string>(new BoundedChannelOptions(10_000)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private readonly Task _writer;

    public ConsoleAccessLogSink(TextWriter? output = null)
    {
        var target = output ?? Console.Out;
        _writer = Task.Run(() => WriteAllAsync(target));
    }

    public void Write(string line) => _lines.Writer.TryWrite(line);

    private async Task WriteAllAsync(TextWriter output)
    {
        var reader = _lines.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var line))
            {
                await output.WriteLineAsync(line).ConfigureAwait(false);
            }

            await output.FlushAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _lines.Writer.TryComplete();
        await _writer.ConfigureAwait(false);
    }
}
