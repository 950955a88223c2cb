using Azure.Core;
using Azure.Core.Pipeline;
using FuncGateway.Diagnostics;

namespace FuncGateway.Storage;

/// <summary>
/// Times every try of every request of the shared table client into <c>funcgateway.table.operation.duration</c>,
/// tagged with the table's name without the prefix (<c>Routes</c>, <c>Upstreams</c>, <c>RateLimits</c>, <c>ApiKeys</c>,
/// <c>Health</c>; <c>Tables</c> for table operations, <c>other</c> otherwise: bounded), the HTTP method and the status
/// class (or <c>error</c>). Does nothing but call on when the instrument has no listener.
/// </summary>
internal sealed class TableOperationMetricsPolicy(GatewayTelemetry telemetry, string tablePrefix) : HttpPipelinePolicy
{
    private static readonly string[] KnownTables = ["Routes", "Upstreams", "RateLimits", "ApiKeys", "Health"];

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var histogram = telemetry.TableOperationDuration;
        if (!histogram.Enabled)
        {
            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
            return;
        }

        var started = TimeProvider.System.GetTimestamp();
        try
        {
            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        }
        finally
        {
            Record(histogram, message, started);
        }
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var histogram = telemetry.TableOperationDuration;
        var started = TimeProvider.System.GetTimestamp();
        try
        {
            ProcessNext(message, pipeline);
        }
        finally
        {
            if (histogram.Enabled)
            {
                Record(histogram, message, started);
            }
        }
    }

    private void Record(System.Diagnostics.Metrics.Histogram<double> histogram, HttpMessage message, long started)
    {
        histogram.Record(TimeProvider.System.GetElapsedTime(started).TotalSeconds,
            new KeyValuePair<string, object?>(GatewayTelemetry.TableTag, LogicalName(message.Request)),
            new KeyValuePair<string, object?>(GatewayTelemetry.OperationTag, message.Request.Method.Method),
            new KeyValuePair<string, object?>(GatewayTelemetry.OutcomeTag, message.HasResponse ? GatewayTelemetry.StatusClass(message.Response.Status) : "error"));
    }

    private string LogicalName(Request request)
    {
        var name = GatewayTablePolicy.TableNameOf(request, tableOperations: false);
        if (name.Equals("Tables", StringComparison.OrdinalIgnoreCase))
        {
            return "Tables";
        }

        if (name.StartsWith(tablePrefix, StringComparison.OrdinalIgnoreCase))
        {
            var rest = name[tablePrefix.Length..];
            foreach (var known in KnownTables)
            {
                if (rest.Equals(known, StringComparison.OrdinalIgnoreCase))
                {
                    return known;
                }
            }
        }

        return "other";
    }
}
