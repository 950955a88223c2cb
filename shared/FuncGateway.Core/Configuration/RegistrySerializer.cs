using System.Text.Json;
using FuncGateway.Model;

namespace FuncGateway.Configuration;

/// <summary>The route entity properties the core reads itself; capabilities add theirs through <see cref="RegistrySchema"/>.</summary>
public static class RouteProperties
{
    public const string Path = "Path";
    public const string Methods = "Methods";
    public const string Hosts = "Hosts";
    public const string Headers = "Headers";
    public const string Query = "Query";
    public const string Upstream = "Upstream";
    public const string UpstreamPath = "UpstreamPath";
    public const string StripPrefix = "StripPrefix";
    public const string Priority = "Priority";
    public const string TimeoutSeconds = "TimeoutSeconds";
    public const string Enabled = "Enabled";
    public const string PreserveHost = "PreserveHost";

    /// <summary>Every core route property.</summary>
    public static IReadOnlyList<string> All { get; } =
        [Path, Methods, Hosts, Headers, Query, Upstream, UpstreamPath, StripPrefix, Priority, TimeoutSeconds, Enabled, PreserveHost];
}

/// <summary>The upstream entity properties the core reads itself; capabilities add theirs through <see cref="RegistrySchema"/>.</summary>
public static class UpstreamProperties
{
    public const string Instances = "Instances";
    public const string LoadBalancing = "LoadBalancing";

    /// <summary>Every core upstream property.</summary>
    public static IReadOnlyList<string> All { get; } = [Instances, LoadBalancing];
}

/// <summary>
/// The table entity format of the registry: reads rows into definitions and writes definitions back as rows. The
/// core's properties are read here; every capability's through its <see cref="RegistryProperty"/> in the
/// <see cref="RegistrySchema"/>, whose names (with the core's) are the allowlist. The loader, <c>fgw</c> and the
/// docs all follow it.
/// </summary>
public sealed class RegistrySerializer
{
    /// <param name="properties">The capabilities' registry properties, in the order files list them.</param>
    public RegistrySerializer(IEnumerable<RegistryProperty> properties)
    {
        Schema = new RegistrySchema(RouteProperties.All, UpstreamProperties.All, properties);
    }

    /// <summary>Every property a route or upstream may have.</summary>
    public RegistrySchema Schema { get; }

    /// <summary>
    /// Why an empty method name is refused: dropped, it would leave a route of every method (or widen a list by
    /// nothing a reader could see). The table row and the registry file say the same.
    /// </summary>
    internal const string EmptyMethodError = "an empty method name. Name each method (GET,POST), or leave the list out for a route of every method.";

    /// <summary>Why an empty host name is refused: dropped, a list of only empty names (<c>,</c>) would be a route of any host.</summary>
    internal const string EmptyHostError = "an empty host name. Name each host (api.example.com,*.example.com), or leave the list out for a route of any host.";

    /// <summary>Whether a comma-separated list has an empty item ('GET,', ',', 'GET,,POST'); a JSON array checks its own.</summary>
    private static bool HasEmptyItem(string? list)
    {
        if (list is null || list.StartsWith('['))
        {
            return false;
        }

        foreach (var item in list.Split(','))
        {
            if (string.IsNullOrWhiteSpace(item))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Reads a routes-table row. Every problem is added to <paramref name="errors"/>; the result is null when there is any.</summary>
    public RouteDefinition? ParseRoute(RegistryRow row, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(errors);
        var start = errors.Count;
        var reader = new RegistryEntityReader(row, errors);
        reader.CheckKeys();
        reader.RejectUnknown(Schema.RouteNames);
        var path = reader.RequiredString(RouteProperties.Path);
        var upstream = reader.OptionalString(RouteProperties.Upstream);
        var methods = reader.List(RouteProperties.Methods);
        if (HasEmptyItem(reader.PeekString(RouteProperties.Methods)))
        {
            errors.Add($"{RouteProperties.Methods}: {EmptyMethodError}");
        }

        var hosts = reader.List(RouteProperties.Hosts);
        if (HasEmptyItem(reader.PeekString(RouteProperties.Hosts)))
        {
            errors.Add($"{RouteProperties.Hosts}: {EmptyHostError}");
        }
        var headers = Conditions(reader, RouteProperties.Headers);
        var query = Conditions(reader, RouteProperties.Query);
        var upstreamPath = reader.OptionalString(RouteProperties.UpstreamPath);
        var stripPrefix = reader.OptionalString(RouteProperties.StripPrefix);
        var priority = reader.WholeNumber(RouteProperties.Priority) ?? 0;
        var timeout = reader.Number(RouteProperties.TimeoutSeconds);
        var enabled = reader.Boolean(RouteProperties.Enabled) ?? true;
        var preserveHost = reader.Boolean(RouteProperties.PreserveHost) ?? false;
        var values = ReadProperties(reader, Schema.RouteProperties);
        if (upstream is null && !reader.HasErrorFor(RouteProperties.Upstream)
            && !Schema.RouteProperties.Any(p => p.AnswersRoute && row.Properties.ContainsKey(p.Name)))
        {
            errors.Add(UpstreamRequired(Schema));
        }

        if (errors.Count > start || path is null)
        {
            return null;
        }

        return new RouteDefinition
        {
            Id = row.RowKey,
            Group = row.PartitionKey,
            Path = path,
            Methods = methods,
            Hosts = hosts.Count == 0 ? Array.Empty<string>() : hosts.ToArray(),
            Headers = headers,
            Query = query,
            Upstream = upstream,
            UpstreamPath = upstreamPath,
            StripPrefix = stripPrefix,
            Priority = priority,
            TimeoutSeconds = timeout,
            Enabled = enabled,
            PreserveHost = preserveHost,
            Properties = values,
        };
    }

    /// <summary>The reason a route without <c>Upstream</c> (and without a property that answers for it) is rejected.</summary>
    internal static string UpstreamRequired(RegistrySchema schema) =>
        "Upstream is required: a pool name or an absolute http(s) URL (only a route with "
        + string.Join(" or ", schema.RouteProperties.Where(static p => p.AnswersRoute).Select(static p => p.Name))
        + ", which answers by itself, has none).";

    /// <summary>Reads an upstreams-table row. Every problem is added to <paramref name="errors"/>; the result is null when there is any.</summary>
    public UpstreamDefinition? ParseUpstream(RegistryRow row, List<string> errors)
    {
        ArgumentNullException.ThrowIfNull(row);
        ArgumentNullException.ThrowIfNull(errors);
        var start = errors.Count;
        var reader = new RegistryEntityReader(row, errors);
        reader.CheckKeys();
        reader.RejectUnknown(Schema.UpstreamNames);
        var instances = Instances(reader, UpstreamProperties.Instances);
        var policy = reader.OptionalString(UpstreamProperties.LoadBalancing);
        var values = ReadProperties(reader, Schema.UpstreamProperties);
        if (errors.Count > start || instances is null)
        {
            return null;
        }

        return new UpstreamDefinition
        {
            Name = row.RowKey,
            Group = row.PartitionKey,
            Instances = instances,
            LoadBalancing = policy ?? RegistryConventions.DefaultLoadBalancing,
            Properties = values,
        };
    }

    /// <summary>The entity a route is stored as. Optional values at their defaults are left out.</summary>
    public RegistryRow ToRow(RouteDefinition route)
    {
        ArgumentNullException.ThrowIfNull(route);
        var p = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            [RouteProperties.Path] = route.Path,
        };
        AddIfSet(p, RouteProperties.Upstream, route.Upstream);
        if (route.Methods.Count > 0)
        {
            p[RouteProperties.Methods] = string.Join(',', route.Methods);
        }

        if (route.Hosts.Count > 0)
        {
            p[RouteProperties.Hosts] = string.Join(',', route.Hosts);
        }

        if (route.Headers.Count > 0)
        {
            p[RouteProperties.Headers] = JsonSerializer.Serialize(route.Headers, RegistryJson.Options);
        }

        if (route.Query.Count > 0)
        {
            p[RouteProperties.Query] = JsonSerializer.Serialize(route.Query, RegistryJson.Options);
        }

        AddIfSet(p, RouteProperties.UpstreamPath, route.UpstreamPath);
        AddIfSet(p, RouteProperties.StripPrefix, route.StripPrefix);
        if (route.Priority != 0)
        {
            p[RouteProperties.Priority] = route.Priority;
        }

        if (route.TimeoutSeconds is { } timeout)
        {
            p[RouteProperties.TimeoutSeconds] = timeout;
        }

        if (!route.Enabled)
        {
            p[RouteProperties.Enabled] = false;
        }

        if (route.PreserveHost)
        {
            p[RouteProperties.PreserveHost] = true;
        }

        WriteProperties(p, Schema.RouteProperties, route.Properties);
        return new RegistryRow(RegistryTable.Routes, route.Group, route.Id, p);
    }

    /// <summary>The entity an upstream pool is stored as.</summary>
    public RegistryRow ToRow(UpstreamDefinition upstream)
    {
        ArgumentNullException.ThrowIfNull(upstream);
        var p = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            [UpstreamProperties.Instances] = JsonSerializer.Serialize(upstream.Instances, RegistryJson.Options),
            [UpstreamProperties.LoadBalancing] = upstream.LoadBalancing,
        };
        WriteProperties(p, Schema.UpstreamProperties, upstream.Properties);
        return new RegistryRow(RegistryTable.Upstreams, upstream.Group, upstream.Name, p);
    }

    private static RegistryPropertyValues ReadProperties(RegistryEntityReader reader, IEnumerable<RegistryProperty> properties)
    {
        var values = RegistryPropertyValues.Empty;
        foreach (var property in properties)
        {
            if (property.TryRead(reader, out var value))
            {
                values = values.With(property, value);
            }
        }

        return values;
    }

    private static void WriteProperties(Dictionary<string, object?> entity, IEnumerable<RegistryProperty> properties, RegistryPropertyValues values)
    {
        foreach (var property in properties)
        {
            if (values.GetValue(property) is { } value && property.ToEntity(value) is { } stored)
            {
                entity[property.Name] = stored;
            }
        }
    }

    private static void AddIfSet(Dictionary<string, object?> properties, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            properties[name] = value;
        }
    }

    private static RequestCondition[] Conditions(RegistryEntityReader reader, string name)
    {
        var text = reader.OptionalString(name);
        if (text is null)
        {
            return [];
        }

        try
        {
            var conditions = JsonSerializer.Deserialize<RequestCondition[]>(text, RegistryJson.Options);
            if (conditions is null)
            {
                reader.Errors.Add($"{name} must be a JSON array of conditions, not null.");
                return [];
            }

            return conditions.Length == 0 ? [] : conditions;
        }
        catch (JsonException ex)
        {
            reader.Errors.Add($"{name} is not a valid JSON array of conditions ({{\"name\":\"...\",\"values\":[\"...\"],\"mode\":\"Exact|Prefix|Contains|Exists|NotExists\",\"caseSensitive\":false}}): {RegistryEntityReader.JsonMessage(ex)}");
            return [];
        }
    }

    private static List<UpstreamInstanceDefinition>? Instances(RegistryEntityReader reader, string name)
    {
        var errors = reader.Errors;
        var text = reader.OptionalString(name);
        if (text is null)
        {
            // Absent is an empty list: the snapshot builder requires an instance unless the pool has a Discovery source.
            return reader.HasErrorFor(name) ? null : [];
        }

        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
            {
                errors.Add($"{name} must be a JSON array.");
                return null;
            }

            var result = new List<UpstreamInstanceDefinition>();
            foreach (var item in doc.RootElement.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String)
                {
                    result.Add(new UpstreamInstanceDefinition(item.GetString()!));
                }
                else if (item.ValueKind == JsonValueKind.Object)
                {
                    var instance = item.Deserialize<UpstreamInstanceDefinition>(RegistryJson.Options);
                    if (instance?.Url is null)
                    {
                        errors.Add($"{name}: every instance needs a \"url\".");
                        return null;
                    }

                    result.Add(instance);
                }
                else
                {
                    errors.Add($"{name}: each instance is a URL string or an object {{\"url\":\"...\",\"weight\":1}}.");
                    return null;
                }
            }

            return result;
        }
        catch (JsonException ex)
        {
            errors.Add($"{name} is not valid JSON: {RegistryEntityReader.JsonMessage(ex)}");
            return null;
        }
    }
}
