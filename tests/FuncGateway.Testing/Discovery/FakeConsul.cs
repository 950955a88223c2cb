using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;

namespace FuncGateway.Testing.Discovery;

/// <summary>One registered instance of a service in <see cref="FakeConsul"/>.</summary>
public sealed record ConsulEntry(string Node, string NodeAddress, string ServiceAddress, int Port, bool Passing = true, string[]? Tags = null, int? PassingWeight = null);

/// <summary>
/// Consul's <c>GET /v1/health/service/{service}</c> with blocking queries, as its API documents them: with
/// <c>index</c> greater than 0 the request is held until the service's index passes it or <c>wait</c> elapses; every
/// answer carries <c>X-Consul-Index</c>. <c>passing</c>, <c>tag</c> and <c>dc</c> are honoured; with a token
/// configured, a request without it gets 403 like an ACL-enabled agent.
/// </summary>
public sealed class FakeConsul(string? requiredToken = null) : LoopbackFake
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<ConsulEntry>> _services = new(StringComparer.Ordinal);
    private ulong _index = 10;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Every request's query string and token header, in arrival order.</summary>
    public ConcurrentQueue<(string Query, string? Token)> Requests { get; } = new();

    /// <summary>When set, every request is answered with this status (500: an agent that lost its servers).</summary>
    public int? FailWith { get; set; }

    public ulong Index
    {
        get
        {
            lock (_lock)
            {
                return _index;
            }
        }
    }

    /// <summary>Replaces the service's entries and moves the index forward (or to <paramref name="index"/>, e.g. backwards after a snapshot restore).</summary>
    public void Set(string service, IEnumerable<ConsulEntry> entries, ulong? index = null)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _services[service] = [.. entries];
            _index = index ?? _index + 1;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    protected override void Map(WebApplication app) =>
        app.MapGet("/v1/health/service/{service}", (Func<HttpContext, string, Task>)HandleAsync);

    private async Task HandleAsync(HttpContext context, string service)
    {
        var query = context.Request.Query;
        var token = context.Request.Headers["X-Consul-Token"].FirstOrDefault();
        Requests.Enqueue((context.Request.QueryString.Value ?? string.Empty, token));
        if (requiredToken is not null && token != requiredToken)
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync("ACL not found");
            return;
        }

        if (FailWith is { } status)
        {
            context.Response.StatusCode = status;
            await context.Response.WriteAsync("rpc error making call: No cluster leader");
            return;
        }

        var minIndex = ulong.TryParse(query["index"], CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
        var wait = ParseWait(query["wait"]);
        using var hold = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, Stopping);
        hold.CancelAfter(wait);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (minIndex == 0 || _index > minIndex)
                {
                    break;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(hold.Token);
            }
            catch (OperationCanceledException) when (Stopping.IsCancellationRequested || context.RequestAborted.IsCancellationRequested)
            {
                context.Abort();
                return;
            }
            catch (OperationCanceledException)
            {
                break; // wait elapsed: answer with the unchanged state, as Consul does
            }
        }

        JsonArray body;
        ulong index;
        lock (_lock)
        {
            index = _index;
            body = [.. Entries(service, query["passing"] == "true", query["tag"].FirstOrDefault())];
        }

        context.Response.Headers["X-Consul-Index"] = index.ToString(CultureInfo.InvariantCulture);
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }

    private IEnumerable<JsonNode> Entries(string service, bool passingOnly, string? tag)
    {
        foreach (var entry in _services.GetValueOrDefault(service) ?? [])
        {
            if ((passingOnly && !entry.Passing) || (tag is not null && !(entry.Tags ?? []).Contains(tag)))
            {
                continue;
            }

            var serviceNode = new JsonObject
            {
                ["ID"] = $"{service}-{entry.Node}-{entry.Port}",
                ["Service"] = service,
                ["Address"] = entry.ServiceAddress,
                ["Port"] = entry.Port,
                ["Tags"] = new JsonArray([.. (entry.Tags ?? []).Select(static t => (JsonNode)t)]),
            };
            if (entry.PassingWeight is { } weight)
            {
                serviceNode["Weights"] = new JsonObject { ["Passing"] = weight, ["Warning"] = 1 };
            }

            yield return new JsonObject
            {
                ["Node"] = new JsonObject { ["Node"] = entry.Node, ["Address"] = entry.NodeAddress },
                ["Service"] = serviceNode,
                ["Checks"] = new JsonArray(new JsonObject { ["Status"] = entry.Passing ? "passing" : "critical" }),
            };
        }
    }

    private static TimeSpan ParseWait(string? wait) =>
        wait is { Length: > 1 } && wait.EndsWith('s') && int.TryParse(wait[..^1], CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.FromMinutes(5);
}
