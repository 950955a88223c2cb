using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;

namespace FuncGateway.Storage;

/// <summary>
/// Gives each try of a request of the shared table client its table's network timeout (the SDK's per-message
/// override of <c>Retry.NetworkTimeout</c>) and hands it to its table's observer. The table is read from the request:
/// the path segment before the entity or query parentheses (<c>/{table}(PartitionKey='..',RowKey='..')</c>,
/// <c>/{table}()</c>), or the body of a table creation (<c>POST /Tables</c>, <c>{"TableName":".."}</c>).
/// </summary>
internal sealed class GatewayTablePolicy : HttpPipelinePolicy
{
    private const string TablesResource = "Tables";

    private readonly GatewayTableSettings[] _tables;

    public GatewayTablePolicy(TimeSpan defaultTimeout, IEnumerable<GatewayTableSettings> tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        DefaultTimeout = defaultTimeout;
        _tables = [.. tables];
    }

    /// <summary>
    /// The network timeout of requests to every other table, and the client-wide one. The SDK (Azure.Core 1.62) reads
    /// the client-wide value, not the per-message one, between two chunks of a response body it buffers.
    /// </summary>
    public TimeSpan DefaultTimeout { get; }

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var table = Apply(message);
        return table?.Observer is { } observer ? observer.ProcessAsync(message, pipeline) : ProcessNextAsync(message, pipeline);
    }

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var table = Apply(message);
        if (table?.Observer is { } observer)
        {
            observer.Process(message, pipeline);
        }
        else
        {
            ProcessNext(message, pipeline);
        }
    }

    private GatewayTableSettings? Apply(HttpMessage message)
    {
        var table = _tables.Length == 0 ? null : Find(message.Request);
        message.NetworkTimeout = table?.NetworkTimeout ?? DefaultTimeout;
        return table;
    }

    /// <summary>
    /// The table a request is for: the path segment before the entity or query parentheses; for table operations
    /// (<c>/Tables('name')</c>, <c>POST /Tables</c>) the table named in the path or the creation's body, unless
    /// <paramref name="tableOperations"/> is false, then <c>Tables</c>.
    /// </summary>
    internal static ReadOnlySpan<char> TableNameOf(Request request, bool tableOperations = true)
    {
        var path = request.Uri.Path.AsSpan();
        var open = path.IndexOf('(');
        var head = open < 0 ? path : path[..open];
        var name = head[(head.LastIndexOf('/') + 1)..];
        if (tableOperations && name.Equals(TablesResource, StringComparison.OrdinalIgnoreCase))
        {
            // Table operations: /Tables('name') names it in the path, a creation in its body.
            name = open >= 0 ? path[(open + 1)..].Trim("()'") : CreatedTableName(request).AsSpan();
        }

        return name;
    }

    private GatewayTableSettings? Find(Request request)
    {
        var name = TableNameOf(request);
        foreach (var table in _tables)
        {
            if (name.Equals(table.TableName, StringComparison.OrdinalIgnoreCase))
            {
                return table;
            }
        }

        return null;
    }

    /// <summary>The <c>TableName</c> of a table creation's small JSON body; null for anything else.</summary>
    private static string? CreatedTableName(Request request)
    {
        if (request.Method != RequestMethod.Post || request.Content is not { } content || !content.TryComputeLength(out var length) || length is <= 0 or > 4096)
        {
            return null;
        }

        using var body = new MemoryStream((int)length);
        content.WriteTo(body, CancellationToken.None);
        try
        {
            var reader = new Utf8JsonReader(body.GetBuffer().AsSpan(0, (int)body.Length));
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("TableName"u8))
                {
                    return reader.Read() && reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
                }
            }
        }
        catch (JsonException)
        {
        }

        return null;
    }
}
