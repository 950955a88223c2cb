using FuncGateway.Diagnostics;
using FuncGateway.Model;
using System.Diagnostics.CodeAnalysis;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace FuncGateway.Storage;

/// <summary>
/// How the one table client treats the requests of one table, when they need other settings than the registry
/// tables': a capability registers one for its table.
/// </summary>
/// <param name="tableName">The table (Table Storage compares table names case-insensitively, and so does this).</param>
/// <param name="networkTimeout">
/// How long one try of one of its requests may wait on the network (the SDK's per-try network timeout). Read at the
/// table's first request, not when the shared client is built, so that the registry's store never depends on (or
/// validates) another capability's options.
/// </param>
/// <param name="observer">Sees every try of its requests (retries too), e.g. to read the service's clock from the responses.</param>
internal sealed class GatewayTableSettings(string tableName, Func<TimeSpan> networkTimeout, HttpPipelinePolicy? observer = null)
{
    private readonly Lazy<TimeSpan> _networkTimeout = new(networkTimeout);

    public string TableName { get; } = tableName;

    public TimeSpan NetworkTimeout => _networkTimeout.Value;

    public HttpPipelinePolicy? Observer { get; } = observer;
}

/// <summary>
/// The gateway's one <see cref="TableServiceClient"/>: one connection pool and, with a table endpoint, one
/// <c>DefaultAzureCredential</c> (one token cache) for every table. Every store takes its <see cref="TableClient"/>
/// from it. Requests to a table with <see cref="GatewayTableSettings"/> get that table's network timeout and observer;
/// every other request gets <c>FuncGateway:Registry:ReadTimeoutSeconds</c>. When the storage settings are missing or
/// malformed it holds the reason instead, and each store stands in with its fail-closed variant.
/// </summary>
internal sealed class GatewayTableService
{
    private readonly TableServiceClient? _client;
    private readonly string? _unavailableReason;

    public GatewayTableService(IOptions<GatewayOptions> options, IConfiguration configuration, IEnumerable<GatewayTableSettings> tables, GatewayTelemetry? telemetry = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(tables);
        var gateway = options.Value;
        var policy = new GatewayTablePolicy(TimeSpan.FromSeconds(gateway.Registry.ReadTimeoutSeconds), tables);
        try
        {
            _client = TableRegistryStore.CreateServiceClient(
                gateway.Storage,
                fallbackConnectionString: configuration["AzureWebJobsStorage"],
                networkTimeout: policy.DefaultTimeout,
                configure: clientOptions =>
                {
                    clientOptions.AddPolicy(policy, HttpPipelinePosition.PerRetry);
                    if (telemetry is not null)
                    {
                        clientOptions.AddPolicy(new TableOperationMetricsPolicy(telemetry, gateway.Storage.TablePrefix), HttpPipelinePosition.PerRetry);
                    }
                });
        }
        catch (Exception ex) when (ex is RegistryStoreException or FormatException or ArgumentException or InvalidOperationException)
        {
            // Missing or malformed storage settings: start anyway; every store answers with this reason (fail closed).
            _unavailableReason = ex is RegistryStoreException ? ex.Message : "The storage connection string is malformed: " + ex.GetType().Name;
        }
    }

    /// <summary>The shared client, or false with the reason there is none (safe to show).</summary>
    public bool TryGetClient([NotNullWhen(true)] out TableServiceClient? client, [NotNullWhen(false)] out string? unavailableReason)
    {
        client = _client;
        unavailableReason = _client is null ? _unavailableReason! : null;
        return client is not null;
    }
}
