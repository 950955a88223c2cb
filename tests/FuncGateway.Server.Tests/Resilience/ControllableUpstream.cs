using System.Collections.Concurrent;
using FuncGateway.Samples.Echo;
using FuncGateway.Server.Tests.Infrastructure;
using FuncGateway.Testing;
using Microsoft.AspNetCore.Http;

namespace FuncGateway.Server.Tests.Resilience;

/// <summary>
/// A real Kestrel upstream that can be made healthy, failing, slow or dead at will: its answers to <c>/health</c> and
/// to everything else are set separately, and requests can be held until released.
/// </summary>
internal sealed class ControllableUpstream : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, int> _byMethod = new();
    private TestUpstream _upstream = null!;
    private int _requests;
    private int _healthChecks;
    private volatile TaskCompletionSource _gate = Released();

    private ControllableUpstream(string name) => Name = name;

    public string Name { get; }

    public Uri BaseAddress => _upstream.BaseAddress;

    /// <summary>Requests other than health checks that reached this instance.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public int HealthChecks => Volatile.Read(ref _healthChecks);

    /// <summary>Status of every non-health answer; 0 answers with the echo.</summary>
    public int Status { get; set; }

    /// <summary>A <c>Retry-After</c> value sent with every <see cref="Status"/> answer, or null for none.</summary>
    public string? RetryAfter { get; set; }

    /// <summary>Status of <c>/health</c>.</summary>
    public int HealthStatus { get; set; } = 200;

    /// <summary>Answer <c>/health</c> alternately with <see cref="HealthStatus"/> and 503: a flapping instance.</summary>
    public bool FlapHealth { get; set; }

    /// <summary>How long every non-health request waits before its answer.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Drop every non-health request's connection without an answer (a crashing process).</summary>
    public bool Abort { get; set; }

    public int RequestsFor(string method) => _byMethod.GetValueOrDefault(method);

    public static async Task<ControllableUpstream> StartAsync(string name)
    {
        var upstream = new ControllableUpstream(name);
        upstream._upstream = await TestUpstream.StartAsync(name, app => app.Respond(upstream.HandleAsync));
        return upstream;
    }

    /// <summary>Holds every non-health request until <see cref="Release"/>.</summary>
    public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate.TrySetResult();

    public Task StopAsync() => _upstream.StopAsync();

    private async Task HandleAsync(HttpContext context)
    {
        if (context.Request.Path == "/health")
        {
            var check = Interlocked.Increment(ref _healthChecks);
            context.Response.StatusCode = FlapHealth && check % 2 == 0 ? 503 : HealthStatus;
            return;
        }

        Interlocked.Increment(ref _requests);
        _byMethod.AddOrUpdate(context.Request.Method, 1, (_, n) => n + 1);
        if (Abort)
        {
            context.Abort();
            return;
        }

        await _gate.Task.WaitAsync(context.RequestAborted);
        if (Delay > TimeSpan.Zero)
        {
            await Task.Delay(Delay, context.RequestAborted);
        }

        if (Status != 0)
        {
            context.Response.StatusCode = Status;
            context.Response.Headers["X-Upstream"] = Name;
            if (RetryAfter is { } retryAfter)
            {
                context.Response.Headers.RetryAfter = retryAfter;
            }

            await context.Response.WriteAsync(Name + " says " + Status);
            return;
        }

        await EchoHandler.HandleAsync(context, Name);
    }

    private static TaskCompletionSource Released()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        gate.SetResult();
        return gate;
    }

    public async ValueTask DisposeAsync()
    {
        Release();
        await _upstream.DisposeAsync();
    }
}
