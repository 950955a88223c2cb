using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;

namespace FuncGateway.Testing.Discovery;

/// <summary>One endpoint of a fake EndpointSlice: its address and conditions (null: the condition is absent).</summary>
public sealed record SliceEndpoint(string Address, bool? Ready = null, bool? Serving = null, bool? Terminating = null);

/// <summary>
/// The Kubernetes API server's list/watch protocol for <c>discovery.k8s.io/v1</c> EndpointSlices, as its API
/// concepts document it: a list answers the items and the collection's <c>resourceVersion</c>; a watch
/// (<c>?watch=1</c>) from a resourceVersion streams one JSON event per line (ADDED, MODIFIED, DELETED, BOOKMARK,
/// ERROR) from that version on; a version older than the server keeps is answered 410 Gone (as an HTTP status, or as
/// an ERROR event carrying a Status with code 410). Requests must carry the bearer token.
/// </summary>
public sealed class FakeKubernetesApi(string token) : LoopbackFake
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, JsonObject> _slices = new(StringComparer.Ordinal);
    private readonly List<(long Version, string Line)> _history = [];
    private readonly List<Channel<string?>> _watchers = [];
    private long _version = 100;
    private long _oldestWatchable = 100;

    /// <summary>Every list and watch request's query string, and whether it was a watch.</summary>
    public ConcurrentQueue<(bool Watch, string Query)> Requests { get; } = new();

    /// <summary>When set, every request is answered with this status and a Status body.</summary>
    public int? FailWith { get; set; }

    public int Lists => Requests.Count(static r => !r.Watch);

    public int OpenWatches
    {
        get
        {
            lock (_lock)
            {
                return _watchers.Count;
            }
        }
    }

    /// <summary>An EndpointSlice of <paramref name="service"/> (label <c>kubernetes.io/service-name</c>).</summary>
    public static JsonObject Slice(string name, string service, string addressType, (string? Name, int Port)[] ports, params SliceEndpoint[] endpoints)
    {
        var portArray = new JsonArray();
        foreach (var (portName, port) in ports)
        {
            var node = new JsonObject { ["port"] = port, ["protocol"] = "TCP" };
            if (portName is not null)
            {
                node["name"] = portName;
            }

            portArray.Add(node);
        }

        var endpointArray = new JsonArray();
        foreach (var endpoint in endpoints)
        {
            var conditions = new JsonObject();
            AddCondition(conditions, "ready", endpoint.Ready);
            AddCondition(conditions, "serving", endpoint.Serving);
            AddCondition(conditions, "terminating", endpoint.Terminating);
            endpointArray.Add(new JsonObject { ["addresses"] = new JsonArray(endpoint.Address), ["conditions"] = conditions });
        }

        return new JsonObject
        {
            ["kind"] = "EndpointSlice",
            ["apiVersion"] = "discovery.k8s.io/v1",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = "shop",
                ["labels"] = new JsonObject { ["kubernetes.io/service-name"] = service },
            },
            ["addressType"] = addressType,
            ["endpoints"] = endpointArray,
            ["ports"] = portArray,
        };
    }

    /// <summary>A kubeconfig whose context <c>fake</c> reaches the fake API server with a bearer token; optionally a current context <c>elsewhere</c> that reaches nothing.</summary>
    public static string Kubeconfig(int port, string token, int? currentContextServerPort = null) => string.Create(CultureInfo.InvariantCulture, $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: fake
          cluster:
            server: http://127.0.0.1:{port}
        - name: elsewhere
          cluster:
            server: http://127.0.0.1:{currentContextServerPort ?? port}
        users:
        - name: gateway
          user:
            token: {token}
        contexts:
        - name: fake
          context:
            cluster: fake
            user: gateway
        - name: elsewhere
          context:
            cluster: elsewhere
            user: gateway
        current-context: {(currentContextServerPort is null ? "fake" : "elsewhere")}
        """);

    /// <summary>Creates or replaces a slice and sends ADDED or MODIFIED to every watch.</summary>
    public void Apply(JsonObject slice) => Change(slice, delete: false, announce: true);

    /// <summary>Deletes a slice and sends DELETED to every watch.</summary>
    public void Delete(string name)
    {
        JsonObject? slice;
        lock (_lock)
        {
            _slices.TryGetValue(name, out slice);
        }

        if (slice is not null)
        {
            Change((JsonObject)slice.DeepClone(), delete: true, announce: true);
        }
    }

    /// <summary>
    /// Changes a slice while its event is lost to every client: the history up to it is compacted away, so only a new
    /// list shows the change (a watch from an older resourceVersion is answered 410).
    /// </summary>
    public void ApplyUnseen(JsonObject slice)
    {
        Change(slice, delete: false, announce: false);
        lock (_lock)
        {
            _oldestWatchable = _version;
            _history.Clear();
        }
    }

    /// <summary>Ends every open watch: with an ERROR event (Status 410 Expired) first, or by just closing it.</summary>
    public void EndWatches(bool withGoneEvent)
    {
        lock (_lock)
        {
            foreach (var watcher in _watchers)
            {
                if (withGoneEvent)
                {
                    watcher.Writer.TryWrite(Event("ERROR", Gone(_version)));
                }

                watcher.Writer.TryComplete();
            }

            _watchers.Clear();
        }
    }

    /// <summary>Sends a BOOKMARK with the current resourceVersion to every watch.</summary>
    public void Bookmark()
    {
        lock (_lock)
        {
            var bookmark = new JsonObject
            {
                ["kind"] = "EndpointSlice",
                ["apiVersion"] = "discovery.k8s.io/v1",
                ["metadata"] = new JsonObject { ["resourceVersion"] = _version.ToString(CultureInfo.InvariantCulture) },
            };
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(Event("BOOKMARK", bookmark));
            }
        }
    }

    protected override void Map(WebApplication app) =>
        app.MapGet("/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices", (Func<HttpContext, string, Task>)HandleAsync);

    private void Change(JsonObject slice, bool delete, bool announce)
    {
        lock (_lock)
        {
            var name = slice["metadata"]!["name"]!.GetValue<string>();
            _version++;
            slice["metadata"]!["resourceVersion"] = _version.ToString(CultureInfo.InvariantCulture);
            var type = delete ? "DELETED" : _slices.ContainsKey(name) ? "MODIFIED" : "ADDED";
            if (delete)
            {
                _slices.Remove(name);
            }
            else
            {
                _slices[name] = slice;
            }

            if (!announce)
            {
                return;
            }

            var line = Event(type, slice);
            _history.Add((_version, line));
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(line);
            }
        }
    }

    private async Task HandleAsync(HttpContext context, string ns)
    {
        var query = context.Request.Query;
        var watch = query["watch"] is var w && (w == "true" || w == "1");
        Requests.Enqueue((watch, context.Request.QueryString.Value ?? string.Empty));
        if (context.Request.Headers.Authorization != "Bearer " + token)
        {
            await StatusAsync(context, 401, "Unauthorized", "Unauthorized");
            return;
        }

        if (FailWith is { } failure)
        {
            await StatusAsync(context, failure, "InternalError", "etcdserver: request timed out");
            return;
        }

        var selector = query["labelSelector"].FirstOrDefault() ?? string.Empty;
        var service = selector.StartsWith("kubernetes.io/service-name=", StringComparison.Ordinal) ? selector["kubernetes.io/service-name=".Length..] : null;
        if (!watch)
        {
            JsonObject list;
            lock (_lock)
            {
                list = new JsonObject
                {
                    ["kind"] = "EndpointSliceList",
                    ["apiVersion"] = "discovery.k8s.io/v1",
                    ["metadata"] = new JsonObject { ["resourceVersion"] = _version.ToString(CultureInfo.InvariantCulture) },
                    ["items"] = new JsonArray([.. _slices.Values.Where(s => Selected(s, ns, service)).Select(static s => s.DeepClone())]),
                };
            }

            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(list.ToJsonString());
            return;
        }

        var from = long.TryParse(query["resourceVersion"], CultureInfo.InvariantCulture, out var parsed) ? parsed : 0;
        Channel<string?>? channel = Channel.CreateUnbounded<string?>();
        long oldest;
        lock (_lock)
        {
            oldest = _oldestWatchable;
            if (from < _oldestWatchable)
            {
                channel = null;
            }
            else
            {
                foreach (var (version, line) in _history)
                {
                    if (version > from)
                    {
                        channel.Writer.TryWrite(line);
                    }
                }

                _watchers.Add(channel);
            }
        }

        if (channel is null)
        {
            await StatusAsync(context, 410, "Expired", $"too old resource version: {from} ({oldest})");
            return;
        }

        context.Response.ContentType = "application/json";
        await context.Response.StartAsync();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, Stopping);
        try
        {
            await foreach (var line in channel.Reader.ReadAllAsync(stop.Token))
            {
                if (line is not null && Selected(line, service))
                {
                    await context.Response.WriteAsync(line + "\n", stop.Token);
                    await context.Response.Body.FlushAsync(stop.Token);
                }
            }
        }
        catch (OperationCanceledException)
        {
            context.Abort();
        }
        finally
        {
            lock (_lock)
            {
                _watchers.Remove(channel);
            }
        }
    }

    private static bool Selected(JsonObject slice, string ns, string? service) =>
        ns == "shop" && (service is null || slice["metadata"]?["labels"]?["kubernetes.io/service-name"]?.GetValue<string>() == service);

    private static bool Selected(string line, string? service) =>
        service is null || !line.Contains("\"kubernetes.io/service-name\"", StringComparison.Ordinal)
        || line.Contains($"\"kubernetes.io/service-name\":\"{service}\"", StringComparison.Ordinal);

    private static string Event(string type, JsonObject value) => new JsonObject { ["type"] = type, ["object"] = value.DeepClone() }.ToJsonString();

    private static JsonObject Gone(long version) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = $"too old resource version: ({version})",
        ["reason"] = "Expired",
        ["code"] = 410,
    };

    private static Task StatusAsync(HttpContext context, int code, string reason, string message)
    {
        context.Response.StatusCode = code;
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["code"] = code,
        }.ToJsonString());
    }

    private static void AddCondition(JsonObject conditions, string name, bool? value)
    {
        if (value is { } set)
        {
            conditions[name] = set;
        }
    }
}
