using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Azure.Functions.Worker.Grpc.Messages;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FuncGateway.Functions.EndToEnd.Tests.Host;

/// <summary>
/// A stand-in for the Azure Functions host, far enough to run the real, built <c>FuncGateway.Functions</c> worker:
/// it starts the worker process, speaks the host↔worker gRPC protocol with it (start stream, init, worker indexing,
/// function load, invocations), forwards HTTP requests to the worker's own HTTP listener as the host does for the
/// ASP.NET Core integration, and invokes timer functions on demand.
/// </summary>
/// <remarks>
/// Start-up follows <c>GrpcWorkerChannel</c> in Azure/azure-functions-host: <c>StartStream</c> →
/// <c>WorkerInitRequest</c>/<c>Response</c> (capabilities, including <c>HttpUri</c>) → <c>FunctionsMetadataRequest</c> →
/// <c>FunctionMetadataResponse</c> (the worker indexes its functions; <c>worker.config.json</c> says
/// <c>workerIndexing: true</c>) → one <c>FunctionLoadRequest</c>/<c>Response</c> per function (the worker does not report
/// <c>SupportsLoadResponseCollection</c>) → <c>InvocationRequest</c>/<c>Response</c>. What it leaves out is listed in
/// this project's README.md.
/// </remarks>
internal sealed class FunctionsTestHost : IAsyncDisposable
{
    /// <summary>How long each start-up step may take on a busy two-core machine.</summary>
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan InvocationTimeout = TimeSpan.FromSeconds(60);
    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };

    private readonly WebApplication _rpcServer;
    private readonly WorkerChannel _channel;
    private readonly WorkerProcess _worker;
    private HttpFrontDoor? _frontDoor;
    private int _disposed;

    private FunctionsTestHost(WebApplication rpcServer, WorkerChannel channel, WorkerProcess worker, string appDirectory)
    {
        _rpcServer = rpcServer;
        _channel = channel;
        _worker = worker;
        AppDirectory = appDirectory;
    }

    public string AppDirectory { get; }

    /// <summary>The capabilities the worker reported in its <c>WorkerInitResponse</c>.</summary>
    public IReadOnlyDictionary<string, string> WorkerCapabilities { get; private set; } = new Dictionary<string, string>();

    /// <summary>The functions the worker reported in its <c>FunctionMetadataResponse</c>, all loaded.</summary>
    public IReadOnlyList<RpcFunctionMetadata> Functions { get; private set; } = [];

    /// <summary>The URI of the worker's own HTTP listener (its <c>HttpUri</c> capability).</summary>
    public Uri WorkerHttpUri { get; private set; } = null!;

    /// <summary>Where clients send HTTP requests: this host's front door, which forwards them to the worker.</summary>
    public Uri BaseAddress => _frontDoor?.BaseAddress ?? throw new InvalidOperationException("Not started.");

    /// <summary>Every HTTP invocation made so far.</summary>
    public IReadOnlyCollection<InvocationRecord> HttpInvocations => _frontDoor?.Invocations ?? [];

    public static async Task<FunctionsTestHost> StartAsync(string appDirectory, IReadOnlyDictionary<string, string?> appSettings)
    {
        var channel = new WorkerChannel();
        var rpcServer = await StartRpcServerAsync(channel);
        var rpcEndpoint = new Uri(rpcServer.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        WorkerProcess worker;
        try
        {
            worker = WorkerProcess.Start(appDirectory, rpcEndpoint, appSettings);
        }
        catch
        {
            await rpcServer.DisposeAsync();
            throw;
        }

        var host = new FunctionsTestHost(rpcServer, channel, worker, appDirectory);
        try
        {
            await host.InitializeAsync();
            return host;
        }
        catch
        {
            // The start-up error is the one worth reporting; a failure to clean up after it is not.
            try
            {
                await host.DisposeAsync();
            }
            catch (Exception cleanup) when (cleanup is InvalidOperationException or OperationCanceledException or IOException)
            {
                host._worker.Kill();
            }

            throw;
        }
    }

    /// <summary>
    /// Invokes a timer function as the host's timer trigger does when the schedule fires: one <c>InvocationRequest</c>
    /// whose trigger input is the serialized <c>TimerInfo</c>.
    /// </summary>
    public async Task<InvocationResponse> InvokeTimerAsync(string functionName, bool isPastDue = false)
    {
        var function = Functions.Single(f => f.Name == functionName);
        var trigger = function.Bindings.Single(b => b.Value.Direction == BindingInfo.Types.Direction.In
                                                   && string.Equals(b.Value.Type, "timerTrigger", StringComparison.OrdinalIgnoreCase));
        var invocationId = Guid.NewGuid().ToString();
        var request = new InvocationRequest
        {
            FunctionId = function.FunctionId,
            InvocationId = invocationId,
            TraceContext = new RpcTraceContext { TraceParent = Activity.Current?.Id ?? "", TraceState = "" },
        };

        // The WebJobs TimerInfo as the host serializes it (Json.NET, PascalCase). ScheduleStatus is null here as it is
        // in Azure until schedule monitoring has recorded a run; the worker's converter reads it case-insensitively.
        var timerInfo = JsonSerializer.Serialize(new { Schedule = new { AdjustForDST = true }, ScheduleStatus = (object?)null, IsPastDue = isPastDue });
        request.InputData.Add(new ParameterBinding { Name = trigger.Key, Data = new TypedData { Json = timerInfo } });

        var answer = _channel.Expect(WorkerChannel.InvocationKey(invocationId));
        await _channel.SendAsync(new StreamingMessage { InvocationRequest = request });
        return (await WaitAsync(answer, InvocationTimeout, $"the {functionName} invocation")).InvocationResponse;
    }

    /// <summary>The worker's recent stdout/stderr and RpcLog lines, for assertion messages.</summary>
    public string DescribeWorker() => _worker.DescribeOutput() + _channel.DescribeLogs();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_frontDoor is not null)
        {
            await _frontDoor.DisposeAsync();
        }

        // The host asks a worker to stop with WorkerTerminate; the .NET worker then stops its application.
        await _channel.SendAsync(new StreamingMessage { WorkerTerminate = new WorkerTerminate { GracePeriod = Duration.FromTimeSpan(TimeSpan.FromSeconds(5)) } });
        await _worker.DisposeAsync();
        await _rpcServer.StopAsync();
        await _rpcServer.DisposeAsync();
    }

    private async Task InitializeAsync()
    {
        var started = await WaitAsync(_channel.Started, StepTimeout, "the worker's StartStream");
        if (started.WorkerId != _worker.WorkerId)
        {
            throw new InvalidOperationException($"StartStream came from worker '{started.WorkerId}', expected '{_worker.WorkerId}'.");
        }

        var init = (await RequestAsync(WorkerChannel.InitKey, new StreamingMessage
        {
            WorkerInitRequest = new WorkerInitRequest
            {
                HostVersion = "4.0.0-funcgateway-test-host",
                WorkerDirectory = AppDirectory,
                FunctionAppDirectory = AppDirectory,
            },
        }, "the WorkerInitResponse")).WorkerInitResponse;
        EnsureSuccess(init.Result, "WorkerInitRequest");
        WorkerCapabilities = new Dictionary<string, string>(init.Capabilities, StringComparer.Ordinal);
        if (!WorkerCapabilities.TryGetValue("HttpUri", out var httpUri) || !Uri.TryCreate(httpUri, UriKind.Absolute, out var workerHttpUri))
        {
            throw new InvalidOperationException("The worker reported no HttpUri capability: it does not use the ASP.NET Core integration." + DescribeWorker());
        }

        WorkerHttpUri = workerHttpUri;

        var metadata = (await RequestAsync(WorkerChannel.MetadataKey, new StreamingMessage
        {
            FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = AppDirectory },
        }, "the FunctionMetadataResponse")).FunctionMetadataResponse;
        EnsureSuccess(metadata.Result, "FunctionsMetadataRequest");
        if (metadata.UseDefaultMetadataIndexing)
        {
            // The real host would then read functions.metadata itself. The .NET worker always indexes, so this host does not.
            throw new NotSupportedException("The worker asked for host indexing (UseDefaultMetadataIndexing), which this test host does not do.");
        }

        var functions = metadata.FunctionMetadataResults.ToList();
        foreach (var function in functions)
        {
            EnsureSuccess(function.Status, $"indexing '{function.Name}'");
            var load = (await RequestAsync(WorkerChannel.LoadKey(function.FunctionId), new StreamingMessage
            {
                FunctionLoadRequest = NewLoadRequest(function),
            }, $"the FunctionLoadResponse for '{function.Name}'")).FunctionLoadResponse;
            EnsureSuccess(load.Result, $"loading '{function.Name}'");
        }

        Functions = functions;
        var http = functions.Select(ToHttpFunction).OfType<HttpFunction>().ToList();
        if (http.Count != 1)
        {
            throw new NotSupportedException($"This test host routes to exactly one HTTP function; the worker reported {http.Count}.");
        }

        _frontDoor = await HttpFrontDoor.StartAsync(_channel, WorkerHttpUri, http[0]);
    }

    // GrpcWorkerChannel.GetFunctionLoadRequest: name, directory, script file, entry point, and each binding of the
    // function (parsed from its raw JSON by the host's BindingMetadata.Create) as a BindingInfo.
    private static FunctionLoadRequest NewLoadRequest(RpcFunctionMetadata indexed)
    {
        var request = new FunctionLoadRequest
        {
            FunctionId = indexed.FunctionId,
            Metadata = new RpcFunctionMetadata
            {
                Name = indexed.Name,
                Directory = indexed.Directory ?? "",
                ScriptFile = indexed.ScriptFile ?? "",
                EntryPoint = indexed.EntryPoint ?? "",
                IsProxy = false,
            },
        };
        foreach (var raw in indexed.RawBindings)
        {
            var binding = JsonSerializer.Deserialize<RawBinding>(raw, JsonOptions)
                ?? throw new InvalidOperationException($"Binding of '{indexed.Name}' is not JSON: {raw}");
            var info = new BindingInfo
            {
                Type = binding.Type,
                Direction = System.Enum.Parse<BindingInfo.Types.Direction>(binding.Direction, ignoreCase: true),
            };
            if (binding.DataType is { } dataType)
            {
                info.DataType = System.Enum.Parse<BindingInfo.Types.DataType>(dataType, ignoreCase: true);
            }

            request.Metadata.Bindings.Add(binding.Name, info);
        }

        foreach (var property in indexed.Properties)
        {
            request.Metadata.Properties.Add(property.Key, property.Value);
        }

        return request;
    }

    // The route the host gives an HTTP function: {routePrefix}/{route}, the prefix from host.json (default "api"),
    // the route from the trigger (default: the function name).
    private HttpFunction? ToHttpFunction(RpcFunctionMetadata function)
    {
        foreach (var raw in function.RawBindings)
        {
            var binding = JsonSerializer.Deserialize<RawBinding>(raw, JsonOptions)!;
            if (string.Equals(binding.Type, "httpTrigger", StringComparison.OrdinalIgnoreCase))
            {
                var template = $"{RoutePrefix()}/{binding.Route ?? function.Name}";
                var methods = (binding.Methods ?? []).Select(m => m.ToUpperInvariant()).ToList();
                return new HttpFunction(function.Name, function.FunctionId, binding.Name, template, methods);
            }
        }

        return null;
    }

    private string RoutePrefix()
    {
        using var hostJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppDirectory, "host.json")));
        return hostJson.RootElement.TryGetProperty("extensions", out var extensions)
               && extensions.TryGetProperty("http", out var http)
               && http.TryGetProperty("routePrefix", out var prefix)
            ? prefix.GetString() ?? "api"
            : "api";
    }

    private async Task<StreamingMessage> RequestAsync(string key, StreamingMessage request, string what)
    {
        var answer = _channel.Expect(key);
        await _channel.SendAsync(request);
        return await WaitAsync(answer, StepTimeout, what);
    }

    // Waits for an answer, failing early (with the worker's output) if the worker process dies first.
    private async Task<T> WaitAsync<T>(Task<T> answer, TimeSpan timeout, string what)
    {
        var first = await Task.WhenAny(answer, _worker.Exited, Task.Delay(timeout));
        if (first == answer)
        {
            try
            {
                return await answer;
            }
            catch (InvalidOperationException ex)
            {
                throw new InvalidOperationException($"Waiting for {what}: {ex.Message}{DescribeWorker()}", ex);
            }
        }

        var why = first == _worker.Exited ? "the worker process exited" : $"no answer within {timeout.TotalSeconds:0} s";
        throw new InvalidOperationException($"Waiting for {what}: {why}.{DescribeWorker()}");
    }

    private void EnsureSuccess(StatusResult? result, string what)
    {
        if (result is not null && result.Status != StatusResult.Types.Status.Success)
        {
            throw new InvalidOperationException($"The worker failed {what}: {result.Status} {result.Exception?.Type}: {result.Exception?.Message}{DescribeWorker()}");
        }
    }

    private static async Task<WebApplication> StartRpcServerAsync(WorkerChannel channel)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        // gRPC without TLS: HTTP/2 with prior knowledge, as the worker's GrpcChannel speaks to an http:// endpoint.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Logging.ClearProviders();
        builder.Services.AddGrpc(options =>
        {
            options.MaxReceiveMessageSize = null;
            options.MaxSendMessageSize = null;
        });
        builder.Services.AddSingleton(channel);
        var app = builder.Build();
        app.MapGrpcService<WorkerChannel>();
        await app.StartAsync();
        return app;
    }

    private sealed record RawBinding(string Name, string Type, string Direction, string? DataType, string? Route, string[]? Methods);
}
